// The production topology (`npm run cluster`): Temporal server on Postgres, two API processes, two worker
// processes, started exactly as docs/operations.md's "Cluster (no Docker)" section says, with fake Twilio and OpenAI
// servers in this process. The first run on a machine builds the server binaries (minutes); later runs reuse them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignFromFile, startCampaign } from '../../src/services/campaigns';
import { ensureClusterBinaries } from '../../src/local/cluster/binaries';
import { childProcessEnv, loadEnv } from '../../src/config/env';
import { campaignWorkflowId, inboundWorkflowId } from '../../src/contract';
import { createDb, type DbHandle } from '../../src/db/core/client';
import { setContentTemplate } from '../../src/db/outbound/content-templates';
import { campaigns, conversations, messages } from '../../src/db/schema';
import { loadMessageTemplate } from '../../src/db/knowledge/templates';
import { createTenant } from '../../src/db/tenants/tenants';
import { installKeyring, resolveKeyring } from '../../src/secrets/keyring';
import { readLocalPayloadKeys } from '../../src/temporal/payload-keys';
import { createUser } from '../../src/db/operators/users';
import { formatAddress } from '../../src/domain/address';
import { newRootTrace } from '../../src/domain/trace';
import { newMessageSid, pathAndQuery, signedWebhook } from '../../src/integrations/signed-webhook';
import { createTemporalClient, type TemporalClientHandle } from '../../src/temporal/connection';
import { startFakeOpenAi } from '../support/fake-openai';
import { startFakeTwilio } from '../support/fake-twilio';
import { eventually, randomPhone } from '../support/harness';
import { freePortBlock } from '../support/ports';

const PUBLIC = 'https://cluster.example.test';
const OPERATIONS_DOC = path.resolve(import.meta.dirname, '../../docs/operations.md');

/** The shell blocks of the docs' cluster section: the first starts the cluster, the others run beside it. */
function clusterSectionCommands(doc: string): string[] {
  const section = /^## Cluster \(no Docker\)\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1];
  if (!section) throw new Error('docs/operations.md has no "## Cluster (no Docker)" section');
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]!.trim());
}

interface Cluster {
  process: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

const slug = () => `cl-${randomBytes(4).toString('hex')}`;
let cluster: Cluster;
let twilio: Awaited<ReturnType<typeof startFakeTwilio>>;
let openai: Awaited<ReturnType<typeof startFakeOpenAi>>;
let database: DbHandle;
let temporal: TemporalClientHandle;
let dataDir: string;
let databaseName: string;
let apiUrls: string[];
let readmeBlocks: string[];
const clusterEnv: Record<string, string> = {};

/** The latest pid the supervisor logged for a child (it logs a new one at each restart). */
function childPids(name: string): number[] {
  return cluster.output.flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const entry = JSON.parse(line) as { child?: string; childPid?: number; msg?: string };
      return entry.child === name && entry.msg === `${name} process started` && entry.childPid ? [entry.childPid] : [];
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  const env = loadEnv();
  // First run on a machine: go install of the server, its SQL tool and the Web UI (CI allows the long build).
  await ensureClusterBinaries(env, (line) => console.log(`[cluster] ${line}`));
  readmeBlocks = clusterSectionCommands(fs.readFileSync(OPERATIONS_DOC, 'utf8'));
  expect(readmeBlocks.length).toBeGreaterThanOrEqual(2);

  const base = await freePortBlock(13);
  databaseName = `causeway_cluster_${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(env.TEST_DATABASE_URL);
  dbUrl.pathname = `/${databaseName}`;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-cluster-'));
  apiUrls = [`http://127.0.0.1:${base + 11}`, `http://127.0.0.1:${base + 12}`];

  twilio = await startFakeTwilio({
    statusCallbacks: {
      rewrite: (url) => url.replace(PUBLIC, apiUrls[1]!),
      // Over the whole URL Twilio was given, query included (the callback's ?m=<message id>), as Twilio signs.
      sign: (url, authToken, params) =>
        signedWebhook({ publicBaseUrl: PUBLIC, path: pathAndQuery(url), authToken, params }),
    },
  });
  openai = await startFakeOpenAi();
  Object.assign(clusterEnv, {
    DATABASE_URL: dbUrl.toString(),
    TEMPORAL_ADDRESS: `127.0.0.1:${base}`,
    TEMPORAL_UI_PORT: String(base + 10),
    PORT: String(base + 11),
    CAUSEWAY_DATA_DIR: dataDir,
    PUBLIC_BASE_URL: PUBLIC,
    TWILIO_API_BASE_URL: twilio.url,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: openai.url,
    OPENAI_MODEL: 'fake-model',
    // Short timers so the durable ones fire inside the test; NPS off to keep the message sequences short.
    MESSAGE_DEBOUNCE: '300ms',
    CONVERSATION_IDLE_AFTER: '5s',
    CONVERSATION_CLOSE_AFTER: '10s',
    NPS_WAIT: '0s',
    CAMPAIGN_DELIVERY_TIMEOUT: '20s',
    WORKER_SHUTDOWN_FORCE_AFTER: '5s',
    LOG_LEVEL: 'info',
  });

  // The docs' first block, as a terminal runs it: its own process group, so "Ctrl-C" reaches all of it.
  const child = spawn('bash', ['-c', readmeBlocks[0]!], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: childProcessEnv(clusterEnv),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) output.push(line);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cluster = { process: child, output, exited };
  await eventually(
    () => {
      if (child.exitCode !== null)
        throw new Error(`npm run cluster exited with ${child.exitCode}:\n${output.slice(-30).join('\n')}`);
      return Promise.resolve(output.some((line) => line.startsWith('Causeway cluster is running')));
    },
    600_000,
    'the cluster to report it is running',
  );

  database = createDb(clusterEnv.DATABASE_URL!, { max: 4 });
  // As the docs' reader, no keys are configured: the cluster made local ones in the data directory, which the
  // CLI reads and this test shares (tenants created here are sealed with the cluster's key; payloads are readable).
  installKeyring(resolveKeyring({ dataDir }).keyring);
  temporal = createTemporalClient({
    address: clusterEnv.TEMPORAL_ADDRESS!,
    namespace: 'default',
    payloadKeys: readLocalPayloadKeys(dataDir),
  });
}, 1_800_000);

afterAll(async () => {
  if (cluster?.process.pid && cluster.process.exitCode === null && cluster.process.signalCode === null) {
    process.kill(-cluster.process.pid, 'SIGINT');
    const code = await Promise.race([
      cluster.exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 90_000)),
    ]);
    if (code === 'timeout') process.kill(-cluster.process.pid, 'SIGKILL');
  }
  await Promise.all([temporal?.close(), database?.close(), twilio?.close(), openai?.close()]);
  const admin = postgres(loadEnv().TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
  for (const name of [databaseName, `${databaseName}_temporal`, `${databaseName}_temporal_visibility`]) {
    if (name) await admin.unsafe(`drop database if exists ${name} with (force)`);
  }
  await admin.end();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 180_000);

async function liveTenant() {
  const tenantSlug = slug();
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const phone = randomPhone();
  const { tenant } = await createTenant(database.db, {
    slug: tenantSlug,
    name: tenantSlug,
    accountSid,
    authToken,
    mode: 'live',
    numbers: [{ channel: 'whatsapp', phone }],
  });
  twilio.addAccount(accountSid, authToken);
  return { id: tenant.id, slug: tenantSlug, accountSid, authToken, address: formatAddress('whatsapp', phone) };
}
type Tenant = Awaited<ReturnType<typeof liveTenant>>;

/** A signed inbound webhook to one of the API processes (Twilio logs the message first, as it does). */
async function postInbound(api: number, tenant: Tenant, from: string, body: string) {
  const messageSid = newMessageSid();
  const params = {
    MessageSid: messageSid,
    SmsMessageSid: messageSid,
    AccountSid: tenant.accountSid,
    From: from,
    To: tenant.address,
    Body: body,
    NumMedia: '0',
    ApiVersion: '2010-04-01',
  };
  twilio.receive({ sid: messageSid, accountSid: tenant.accountSid, from, to: tenant.address, body });
  const request = signedWebhook({
    publicBaseUrl: PUBLIC,
    path: '/webhooks/twilio/messages',
    authToken: tenant.authToken,
    params,
  });
  const response = await fetch(`${apiUrls[api]}/webhooks/twilio/messages`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  expect(response.status).toBe(200);
  await response.text();
  return messageSid;
}

const sentTo = (to: string) => twilio.sent.filter((m) => m.to === to);
const repliesTo = (sids: string[]) =>
  database.db
    .select()
    .from(messages)
    .where(and(inArray(messages.correlationId, sids), eq(messages.direction, 'outbound')));

async function api(index: number, route: string, key: string, body?: unknown) {
  const response = await fetch(`${apiUrls[index]}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

describe('the cluster (Temporal on Postgres, 2 APIs, 2 workers)', () => {
  it('runs the docs section as written: the demo tenant answers `causeway simulate`', async () => {
    // A second terminal: only the data directory (where runtime.json says where everything listens) is shared.
    for (const block of readmeBlocks.slice(1)) {
      const run = spawn('bash', ['-e', '-c', block], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: childProcessEnv({ CAUSEWAY_DATA_DIR: dataDir }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      run.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      run.stderr.on('data', (c: Buffer) => {
        out += c.toString();
      });
      const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
      expect(code, `docs block failed:\n${block}\n${out}`).toBe(0);
      if (block.includes('simulate')) expect(out).toMatch(/reply \(ai, simulated\): Echo: /);
    }
  }, 120_000);

  it('answers inbound conversations through either API, and the durable timers fire (idle nudge, close)', async () => {
    const tenant = await liveTenant();
    const customers = Array.from({ length: 6 }, () => `whatsapp:${randomPhone()}`);
    const sids = await Promise.all(customers.map((from, i) => postInbound(i % 2, tenant, from, `olá ${i}`)));
    await twilio.waitFor(() => customers.every((c) => sentTo(c).length >= 1), 120_000);
    for (const [i, from] of customers.entries()) expect(sentTo(from)[0]!.body).toBe(`Echo: olá ${i}`);
    expect(await repliesTo(sids)).toHaveLength(6);

    // CONVERSATION_IDLE_AFTER=5s then CONVERSATION_CLOSE_AFTER=10s of silence: nudge, then closing message.
    const nudge = (await loadMessageTemplate(database.db, tenant.id, 'idle_nudge', 'pt-BR'))!.body;
    const closing = (await loadMessageTemplate(database.db, tenant.id, 'closing', 'pt-BR'))!.body;
    await twilio.waitFor(() => customers.every((c) => sentTo(c).length >= 3), 120_000);
    for (const [i, from] of customers.entries())
      expect(sentTo(from).map((m) => m.body)).toEqual([`Echo: olá ${i}`, nudge, closing]);
    const rows = await eventually(
      async () => {
        const r = await database.db.select().from(conversations).where(eq(conversations.tenantId, tenant.id));
        return r.length === 6 && r.every((c) => c.status === 'EXPIRED') ? r : null;
      },
      60_000,
      'conversations EXPIRED',
    );
    expect(rows).toHaveLength(6);
  }, 300_000);

  it('runs a campaign: one message per target, delivery callbacks through the API, completed', async () => {
    const tenant = await liveTenant();
    await setContentTemplate(database.db, {
      tenantId: tenant.id,
      purpose: 'broadcast',
      contentSid: `HX${randomBytes(16).toString('hex')}`,
      variables: { 1: 'text' },
    });
    const phones = Array.from({ length: 8 }, () => randomPhone());
    const trace = newRootTrace();
    const created = await createCampaignFromFile(database.db, {
      tenantId: tenant.id,
      createdBy: 'test',
      traceId: trace.traceId,
      options: {
        name: 'cluster',
        body: 'Olá {{name}}, temos um aviso.',
        activeHours: 'always',
        ratePerSecond: 20,
        maxAttempts: 1,
      },
      file: { name: 'targets.csv', content: ['phone,name', ...phones.map((p, i) => `${p},Cliente ${i}`)].join('\n') },
    });
    await startCampaign(temporal.client, {
      campaignId: created.campaignId,
      tenantId: tenant.id,
      tenantSlug: tenant.slug,
      taskQueue: 'causeway',
      trace,
      name: 'cluster',
    });
    await temporal.client.workflow.getHandle(campaignWorkflowId(created.campaignId)).result();
    const [row] = await database.db.select().from(campaigns).where(eq(campaigns.id, created.campaignId));
    expect(row).toMatchObject({ status: 'completed', contactedTargets: 8, successfulContacts: 8 });
    for (const phone of phones) expect(sentTo(`whatsapp:${phone}`)).toHaveLength(1);
  }, 240_000);

  it('SIGKILL of a worker mid-traffic: every message is still answered, exactly once', async () => {
    const tenant = await liveTenant();
    const [victim] = childPids('worker-1').slice(-1);
    expect(victim).toBeGreaterThan(0);
    const customers = Array.from({ length: 24 }, () => `whatsapp:${randomPhone()}`);
    const sids: string[] = [];
    for (const [i, from] of customers.entries()) {
      sids.push(await postInbound(i % 2, tenant, from, `pedido ${i}`));
      if (i === 8) process.kill(victim!, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 50)); // traffic pacing (an arrival rate), not a wait for state
    }
    // Every inbound run finishes (the dead worker's tasks time out and the other worker takes them).
    await Promise.all(sids.map((sid) => temporal.client.workflow.getHandle(inboundWorkflowId(sid)).result()));
    await twilio.waitFor(
      () => customers.every((c, i) => sentTo(c).some((m) => m.body === `Echo: pedido ${i}`)),
      120_000,
    );
    const replies = await eventually(
      async () => {
        const r = await repliesTo(sids);
        return r.length >= sids.length && r.every((m) => m.status !== 'pending') ? r : null;
      },
      60_000,
      'every reply recorded with a status',
    );
    expect(replies).toHaveLength(sids.length);
    expect(new Set(replies.map((m) => m.correlationId)).size).toBe(sids.length);
    for (const [i, from] of customers.entries())
      expect(sentTo(from).filter((m) => m.body === `Echo: pedido ${i}`)).toHaveLength(1);
    // The supervisor brought the killed worker back.
    await eventually(
      () => Promise.resolve(childPids('worker-1').length >= 2 && childPids('worker-1').at(-1) !== victim),
      60_000,
      'worker-1 restarted',
    );
  }, 300_000);

  it('a conversation begun through API 1 is visible and controllable through API 2 (takeover, agent message)', async () => {
    const tenant = await liveTenant();
    const { apiKey, user } = await createUser(database.db, {
      tenantId: tenant.id,
      name: 'Ana',
      role: 'AGENT',
      department: 'support',
    });
    const from = `whatsapp:${randomPhone()}`;
    const sid = await postInbound(0, tenant, from, 'preciso de ajuda');
    await twilio.waitFor(() => sentTo(from).length >= 1, 120_000);
    const { conversationWorkflowId } = (await temporal.client.workflow.getHandle(inboundWorkflowId(sid)).result()) as {
      conversationWorkflowId: string;
    };
    const [row] = await database.db
      .select()
      .from(conversations)
      .where(eq(conversations.workflowId, conversationWorkflowId));

    const listed = await api(1, '/api/conversations', apiKey);
    expect(listed.status).toBe(200);
    expect((listed.json.conversations as { id: string }[]).map((c) => c.id)).toContain(row!.id);
    const taken = await api(1, `/api/conversations/${row!.id}/takeover`, apiKey, {});
    expect(taken.status).toBe(200);
    expect(taken.json.conversation).toMatchObject({ status: 'HUMAN', assignedAgent: { id: user.id, name: 'Ana' } });
    const sent = await api(1, `/api/conversations/${row!.id}/messages`, apiKey, { body: 'Oi, aqui é a Ana.' });
    expect(sent.status).toBe(201);
    await twilio.waitFor(() => sentTo(from).some((m) => m.body === 'Ana: Oi, aqui é a Ana.'), 30_000);
    const shown = await api(0, `/api/conversations/${row!.id}`, apiKey);
    expect(shown.json.conversation).toMatchObject({ status: 'HUMAN' });
  }, 240_000);

  it('stops on Ctrl-C: APIs, workers, Web UI and Temporal gone, exit 0', async () => {
    // npm itself exits at once on Ctrl-C; the cluster process (its pid is in runtime.json) stops the parts in order.
    const { pid } = JSON.parse(fs.readFileSync(path.join(dataDir, 'runtime.json'), 'utf8')) as { pid: number };
    process.kill(-cluster.process.pid!, 'SIGINT');
    await eventually(
      () => Promise.resolve(cluster.output.some((line) => line.includes('"msg":"cluster stopped"'))),
      90_000,
      'the cluster to stop',
    );
    await eventually(
      () => {
        try {
          process.kill(pid, 0);
          return Promise.resolve(false);
        } catch {
          return Promise.resolve(true);
        }
      },
      10_000,
      'the cluster process to exit',
    );
    expect(cluster.output.find((line) => line.includes('"msg":"cluster stopped"'))).toContain('"code":0');
    expect(fs.existsSync(path.join(dataDir, 'runtime.json'))).toBe(false);
    const refused = (port: number) =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
    const frontend = Number(clusterEnv.TEMPORAL_ADDRESS!.split(':')[1]);
    for (const port of [frontend, frontend + 10, frontend + 11, frontend + 12]) expect(await refused(port)).toBe(true);
    expect(cluster.output).toContainEqual(expect.stringContaining('"msg":"worker-2 stopped"'));
  }, 120_000);
});
