import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { childProcessEnv } from '../../src/config/env';
import { workerHeapMb } from '../../src/config/worker-heap';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let service: ChildProcess | null = null;
let dataDir = '';
afterAll(async () => {
  if (service && service.exitCode === null) {
    service.kill('SIGKILL');
    await new Promise((resolve) => service!.once('exit', resolve));
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start supervises its parts (issue 10, H)', () => {
  it('a worker killed with SIGKILL is restarted and the next message is answered; SIGTERM stops everything', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-supervision-'));
    const port = await freePort();
    // Offline defaults (embedded Postgres in the temp dir, scripted AI, simulated Twilio); the test run's Temporal
    // on a queue of its own instead of a dev server on 7233.
    const env = childProcessEnv({
      CAUSEWAY_DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_BASE_URL: '',
      DATABASE_URL: '',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      AI_PROVIDER: '',
      TWILIO_ACCOUNT_SID: '',
      TWILIO_AUTH_TOKEN: '',
      TWILIO_PHONE_NUMBER: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `supervision-${randomBytes(4).toString('hex')}`,
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      WORKER_SHUTDOWN_FORCE_AFTER: '5s',
    });
    service = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started: { child: string; childPid: number }[] = [];
    const output: string[] = [];
    let onLine = () => {};
    for (const stream of [service.stdout!, service.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        try {
          const entry = JSON.parse(line) as { component?: string; child?: string; childPid?: number; msg?: string };
          if (entry.component === 'supervisor' && entry.childPid && entry.msg?.endsWith('process started'))
            started.push({ child: entry.child!, childPid: entry.childPid });
        } catch {
          /* the banner and other plain text */
        }
        onLine();
      });
    }
    const waitForOutput = (predicate: () => boolean, what: string, timeoutMs = 120_000) =>
      new Promise<void>((resolve, reject) => {
        if (predicate()) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`${what} not seen within ${timeoutMs} ms:\n${output.slice(-30).join('\n')}`)),
          timeoutMs,
        );
        onLine = () => {
          if (predicate()) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
    const simulate = async (body: string) => {
      const { stdout } = await run(
        process.execPath,
        ['bin/causeway.js', 'simulate', '--body', body, '--timeout', '90s'],
        { cwd: ROOT, env, timeout: 120_000 },
      );
      return stdout;
    };

    await waitForOutput(() => output.some((l) => l.includes('Causeway is running.')), 'the banner');
    expect(output.join('\n')).toContain(
      `Webhook URL (Twilio → "A message comes in"):  http://localhost:${port}/webhooks/twilio/messages`,
    );
    expect(await simulate('Olá')).toMatch(/^reply \(ai, simulated\): \S/m);
    // Issue 23 B: no key, so npm start chooses the scripted responder aloud and passes the choice to its worker.
    expect(output.join('\n')).toContain('no OPENAI_API_KEY: runs the offline scripted responder');
    expect(output.some((l) => l.includes('"ai":"scripted"') && l.includes('worker started'))).toBe(true);
    expect(output.some((l) => l.includes('no OPENAI_API_KEY and no AI_PROVIDER'))).toBe(false);
    // Issue 25 B: the worker runs with the V8 heap limit sized from its workflow cache (src/config/worker-heap.ts).
    const workerStarted = JSON.parse(output.find((l) => l.includes('"worker started"'))!) as {
      maxCachedWorkflows: number;
      heapLimitMb: number;
    };
    // heap_size_limit is the old space's limit plus the young generation's few tens of MB.
    expect(workerStarted.heapLimitMb - workerHeapMb(workerStarted.maxCachedWorkflows)).toBeGreaterThanOrEqual(0);
    expect(workerStarted.heapLimitMb - workerHeapMb(workerStarted.maxCachedWorkflows)).toBeLessThan(100);
    expect(output.some((l) => l.includes('without --max-old-space-size'))).toBe(false);
    // No CAUSEWAY_PAYLOAD_KEYS: npm start made a local key (and said so); children and the CLI (simulate) use it.
    expect(fs.readFileSync(path.join(dataDir, 'payload-keys'), 'utf8')).toMatch(
      /^local-\d{4}-\d{2}-\d{2}:[A-Za-z0-9+/]{43}=\n$/,
    );
    expect(output.some((l) => l.includes('created a local key'))).toBe(true);
    expect(output.join('\n')).toContain(`sign in at http://localhost:${port}/codec/sign-in`);

    const worker = started.find((s) => s.child === 'worker')!;
    const api = started.find((s) => s.child === 'api')!;
    process.kill(worker.childPid, 'SIGKILL');
    await waitForOutput(() => started.filter((s) => s.child === 'worker').length === 2, 'a restarted worker');
    const restarted = started.filter((s) => s.child === 'worker')[1]!;
    expect(restarted.childPid).not.toBe(worker.childPid);
    expect(output.some((l) => l.includes('worker exited unexpectedly; restarting') && l.includes('SIGKILL'))).toBe(
      true,
    );
    // The message goes in right away: the API takes it, and the new worker answers it once it polls.
    expect(await simulate('quero pagar')).toMatch(/^reply \(ai, simulated\): \S/m);
    expect(alive(api.childPid)).toBe(true);

    const exited = new Promise<number | null>((resolve) => service!.once('exit', (code) => resolve(code)));
    service.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(alive(restarted.childPid)).toBe(false);
    expect(alive(api.childPid)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'runtime.json'))).toBe(false);
  }, 300_000);
});
