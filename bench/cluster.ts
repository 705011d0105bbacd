// `npm run bench -- cluster`: inbound throughput of the production topology (src/local/cluster/main.ts: separate API and
// worker processes) with one worker and with two, on the Temporal cluster (Postgres) and on the dev server
// (SQLite), against zero-latency fake Twilio and OpenAI servers in this process. Ratios are what it reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Env } from '../src/config/env';
import { childProcessEnv } from '../src/config/env';
import { createDb } from '../src/db/core/client';
import { createTenant } from '../src/db/tenants/tenants';
import { installKeyring, resolveKeyring } from '../src/secrets/keyring';
import { newMessageSid, signedWebhook } from '../src/integrations/signed-webhook';
import { startFakeOpenAi } from '../test/support/fake-openai';
import { startFakeTwilio } from '../test/support/fake-twilio';
import { freePortBlock } from '../test/support/ports';
import { record } from './figures';

const PUBLIC = 'https://bench-cluster.example.test';
const ROOT = path.resolve(import.meta.dirname, '..');

export interface ClusterFigure {
  label: string;
  perSecond: number;
  p50: number;
  p95: number;
}

/**
 * One configuration: start the stack, warm it up, then run `n` new conversations through it, `concurrency` at a
 * time, round-robin over both APIs. Throughput = n / elapsed; latency = webhook post → reply at the fake Twilio.
 */
async function measure(
  env: Env,
  label: string,
  flags: string[],
  n: number,
  concurrency: number,
): Promise<ClusterFigure> {
  const twilio = await startFakeTwilio();
  const openai = await startFakeOpenAi();
  const base = await freePortBlock(13);
  const name = `causeway_bench_cluster_${randomBytes(4).toString('hex')}`;
  const url = new URL(env.TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-cluster-'));
  const apis = [`http://127.0.0.1:${base + 11}`, `http://127.0.0.1:${base + 12}`];
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/local/cluster/main.ts'), '--no-ui', ...flags],
    {
      cwd: ROOT,
      env: childProcessEnv({
        DATABASE_URL: url.toString(),
        TEMPORAL_ADDRESS: `127.0.0.1:${base}`,
        TEMPORAL_UI_PORT: String(base + 10),
        PORT: String(base + 11),
        CAUSEWAY_DATA_DIR: dataDir,
        PUBLIC_BASE_URL: PUBLIC,
        TWILIO_API_BASE_URL: twilio.url,
        OPENAI_API_KEY: 'sk-bench',
        OPENAI_BASE_URL: openai.url,
        OPENAI_MODEL: 'fake-model',
        MESSAGE_DEBOUNCE: '0s',
        NPS_WAIT: '0s',
        LOG_LEVEL: 'warn',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 600_000;
    while (!output.includes('Causeway cluster is running')) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`${label}: the stack did not start:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200)); // readiness probe
    }
    // The stack made its own secrets key in the data directory: the tenant created here is sealed with it.
    installKeyring(resolveKeyring({ dataDir }).keyring);
    const database = createDb(url.toString(), { max: 2 });
    const accountSid = `AC${randomBytes(16).toString('hex')}`;
    const authToken = randomBytes(16).toString('hex');
    const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    await createTenant(database.db, {
      slug: `bench-${randomBytes(3).toString('hex')}`,
      name: 'bench',
      accountSid,
      authToken,
      mode: 'live',
      numbers: [{ channel: 'whatsapp', phone }],
    });
    await database.close();
    twilio.addAccount(accountSid, authToken);
    let seq = 0;
    const post = async (i: number) => {
      const from = `whatsapp:+5511${String(900000000 + (seq += 1))}`;
      const params = {
        MessageSid: newMessageSid(),
        AccountSid: accountSid,
        From: from,
        To: `whatsapp:${phone}`,
        Body: 'olá',
        NumMedia: '0',
      };
      const request = signedWebhook({ publicBaseUrl: PUBLIC, path: '/webhooks/twilio/messages', authToken, params });
      const started = performance.now();
      const response = await fetch(`${apis[i % 2]}/webhooks/twilio/messages`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      await response.text();
      if (response.status !== 200) throw new Error(`${label}: webhook answered ${response.status}`);
      return { from, started };
    };
    // Closed loop: `concurrency` customers, each posting a new conversation's first message and waiting for its
    // reply before the next. An open loop far above capacity measured retry storms (timeouts under CPU
    // starvation), not capacity.
    const run = async (count: number) => {
      let next = 0;
      const latencies: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            const i = next;
            next += 1;
            const { from, started } = await post(i);
            await twilio.waitFor((sent) => sent.some((m) => m.to === from), 600_000);
            latencies.push(performance.now() - started);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      return {
        perSecond: count / seconds,
        p50: latencies[Math.floor(latencies.length * 0.5)]!,
        p95: latencies[Math.floor(latencies.length * 0.95)]!,
      };
    };
    await run(20); // warm-up: bundles loaded, connections open, caches filled
    return { label, ...(await run(n)) };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await Promise.all([twilio.close(), openai.close()]);
    const admin = postgres(env.TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
    for (const db of [name, `${name}_temporal`, `${name}_temporal_visibility`])
      await admin.unsafe(`drop database if exists ${db} with (force)`);
    await admin.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The four configurations, in order, and the ratios between them. */
export async function benchCluster(
  env: Env,
  print: (line: string) => void,
  options: { n?: number; concurrency?: number } = {},
) {
  const n = options.n ?? 150;
  const concurrency = options.concurrency ?? 10;
  const figures: ClusterFigure[] = [];
  for (const [label, flags] of [
    ['dev server, 1 worker', ['--dev-server', '--workers', '1']],
    ['dev server, 2 workers', ['--dev-server', '--workers', '2']],
    ['cluster (Postgres), 1 worker', ['--workers', '1']],
    ['cluster (Postgres), 2 workers', ['--workers', '2']],
  ] as const) {
    figures.push(await measure(env, label, [...flags], n, concurrency));
  }
  const [dev1, dev2, c1, c2] = figures as [ClusterFigure, ClusterFigure, ClusterFigure, ClusterFigure];
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  print(
    `Scale-out (npm run cluster topology: 2 API processes, N worker processes; ${n} new conversations, ${concurrency} at a time, MESSAGE_DEBOUNCE=0s, zero-latency fakes; ${os.cpus().length} cores)`,
  );
  for (const f of figures)
    print(
      `  ${f.label.padEnd(30)} ${f.perSecond.toFixed(1).padStart(6)} replies/s   reply p50 ${f.p50.toFixed(0)} ms p95 ${f.p95.toFixed(0)} ms`,
    );
  // Issue 25 E: the figures in the JSON too (no bar: on a machine whose cores every process shares, the ratio
  // measures CPU, not the design; bench/README.md says so).
  for (const [f, one] of [
    [dev1, null],
    [dev2, dev1],
    [c1, null],
    [c2, c1],
  ] as const)
    record(
      'cluster',
      `scale-out: ${f.label}, replies per second`,
      f.perSecond,
      '/s',
      one ? { name: `${one.label}`, value: one.perSecond } : null,
      null,
      `reply p50 ${f.p50.toFixed(0)} ms, p95 ${f.p95.toFixed(0)} ms; ${n} new conversations, ${concurrency} at a time`,
    );
  print(
    `  2 workers / 1 worker: cluster ${x(c2.perSecond, c1.perSecond)}, dev server ${x(dev2.perSecond, dev1.perSecond)}   cluster / dev server: 1 worker ${x(c1.perSecond, dev1.perSecond)}, 2 workers ${x(c2.perSecond, dev2.perSecond)}`,
  );
  print(
    '  (every process here shares the same cores with Postgres and Temporal: on a small machine the ratio measures CPU, not the design)\n',
  );
  return figures;
}
