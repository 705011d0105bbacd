// `npm run bench`: Causeway's inbound path and campaigns on this machine against a real Temporal dev server and real
// Postgres, with zero-latency fake Twilio and OpenAI servers. Every figure is reported next to a baseline measured in
// the same run (DESIGN §6) — the no-op pipeline of the same Temporal hops (bench/noop), a bare Hono route, a bare
// `workflow.start` loop, `node -e 0` — as a ratio, with its bar and PASS or MISS: ratios, not absolute times, are
// what the bars are about (these machines are shared and noisy).
//
//   npm run bench                          inbound, throughput, cli, campaign pacing (10–13 min on 2 cores)
//   npm run bench -- inbound|slowai|throughput|cli|campaign|curve|devserver|cluster|reports …   those groups only
//   npm run bench -- counts                 statements and events per message only, each one listed
//   npm run bench -- idle --idle-conversations 10000 [--idle-rate 12]   idle cost and memory of N open conversations
//   npm run bench -- idle --idle-conversations 2500 --idle-no-nudges   memory only: stops after the restart
//   npm run bench -- throughput --cpu-profile DIR   the worker and API processes write CPU profiles (bench/cpu-profile.ts)
//   npm run bench -- reports                the desk report over 100k conversations (optional group, bench/reports.ts)
//   npm run bench -- --json [file]         also writes every figure as JSON (default bench-results.json)
//   npm run bench -- idle --json bench/results.json --merge   replaces only the idle group's figures in that file
//   npm run bench -- --shape 'inbound=none,conversation=2+1L'   the chosen shape's no-op pipeline
//   npm run bench -- devserver --dev-flags '--sqlite-pragma journal_mode=wal …'   one flag set against the defaults
//   npm run bench -- devserver --dev-sets 0,1,6   some of bench/throughput.ts DEV_SERVER_CANDIDATES
//   npm run bench -- campaign --memory-flags ''   the in-memory server with other flags ('' = the CLI's defaults)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { serve } from '@hono/node-server';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, bundleWorkflowCode } from '@temporalio/worker';
import proto from '@temporalio/proto';
import postgres from 'postgres';
import type { AddressInfo } from 'node:net';
import { formatPayloadKeys } from '../src/temporal/payload-codec';
import { createWorker, WORKFLOW_BUNDLE_OPTIONS } from '../worker';
import { createApp } from '../src/api/app';
import { loadEnv } from '../src/config/env';
import { campaignWorkflowId } from '../src/contract';
import { controlCampaign, createCampaignFromFile, startCampaign } from '../src/services/campaigns';
import { campaigns } from '../src/db/schema';
import { newRootTrace } from '../src/domain/trace';
import { eq } from 'drizzle-orm';
import { ALL_SEARCH_ATTRIBUTES } from '../src/contract/search-attributes';
import { createDb } from '../src/db/core/client';
import { startEmbeddedPostgres } from '../src/local/embedded-postgres';
import { runMigrations } from '../src/db/core/migrate';
import { setContentTemplate } from '../src/db/outbound/content-templates';
import { createTenant } from '../src/db/tenants/tenants';
import { installKeyring, parseKeyring } from '../src/secrets/keyring';
import { pathAndQuery, signedWebhook } from '../src/integrations/signed-webhook';
import { createLogger } from '../src/logger';
import { ensureTemporalCli } from '../src/local/temporal-cli';
import { createTemporalClient } from '../src/temporal/connection';
import { DEV_SERVER_TUNING, devServerTuningArgs } from '../src/local/temporal-dev-server';
import { installTemporalRuntime } from '../src/temporal/runtime';
import { startFakeOpenAi } from '../test/support/fake-openai';
import { startFakeTwilio } from '../test/support/fake-twilio';
import { benchCli } from './cli-start';
import { benchCluster } from './cluster';
import { benchKb } from './kb';
import { busiestSecond, watchReplies } from './drive';
import { record, writeJson } from './figures';
import { benchCounts, benchInbound } from './inbound';
import { benchSlowAi } from './slow-ai';
import { benchIdle } from './idle';
import { profileChildrenInto } from './stack';
import { benchReports } from './reports';
import { noopRoutes, startNoopWorker } from './noop/pipeline';
import { parseShape } from './noop/shape';
import { benchDevServer, benchThroughput, DEV_SERVER_CANDIDATES, parseDevFlags } from './throughput';

const PUBLIC = 'https://bench.example.test';
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

const GROUPS = [
  'inbound',
  'counts',
  'throughput',
  'cli',
  'campaign',
  'curve',
  'devserver',
  'cluster',
  'slowai',
  'idle',
  'reports',
  'kb',
] as const;
type Group = (typeof GROUPS)[number];
const DEFAULT_GROUPS: Group[] = ['inbound', 'slowai', 'throughput', 'cli', 'campaign', 'kb'];

function parseArgs(argv: string[]) {
  const groups: Group[] = [];
  let json: string | null = null;
  let merge = false;
  let shape: string | null = null;
  let devFlags: string | null = null;
  let devSets: number[] | null = null;
  let memoryFlags: string | null = null;
  let idleConversations = 10_000;
  let idleRate: number | undefined;
  let idleNudges = true;
  let cpuProfile: string | null = null;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--json') {
      const next = argv[i + 1];
      json =
        next && !next.startsWith('--') && !GROUPS.includes(next as Group) ? ((i += 1), next) : 'bench-results.json';
    } else if (arg === '--merge') merge = true;
    else if (arg === '--shape') shape = argv[(i += 1)] ?? null;
    else if (arg === '--dev-flags') devFlags = argv[(i += 1)] ?? '';
    else if (arg === '--memory-flags') memoryFlags = argv[(i += 1)] ?? '';
    else if (arg === '--idle-conversations') idleConversations = Number(argv[(i += 1)] ?? '10000');
    else if (arg === '--idle-rate') idleRate = Number(argv[(i += 1)] ?? '12');
    else if (arg === '--idle-no-nudges') idleNudges = false;
    else if (arg === '--cpu-profile') cpuProfile = path.resolve(argv[(i += 1)] ?? 'bench-cpu-profiles');
    else if (arg === '--dev-sets') devSets = (argv[(i += 1)] ?? '').split(',').map(Number);
    else if (GROUPS.includes(arg as Group)) groups.push(arg as Group);
    else
      throw new Error(
        `npm run bench: unknown argument ${arg} (groups: ${GROUPS.join(', ')}; --json [file], --merge, --shape, --dev-flags)`,
      );
  }
  return {
    groups: groups.length ? groups : DEFAULT_GROUPS,
    named: groups,
    json,
    merge,
    shape,
    devFlags,
    devSets,
    memoryFlags,
    idleConversations,
    idleRate,
    idleNudges,
    cpuProfile,
  };
}

/** Auth tokens are sealed as in production: a throwaway key of this bench run, shared with its peer process. */
const SECRETS_KEYS = `bench:${randomBytes(32).toString('base64')}`;
installKeyring(parseKeyring(SECRETS_KEYS));

async function main() {
  const env = loadEnv();
  const args = parseArgs(process.argv.slice(2));
  const run = (group: Group) => args.groups.includes(group);
  profileChildrenInto(args.cpuProfile);
  const print = (line: string) => console.log(line);
  console.log(`Causeway bench: Node ${process.version}, ${os.cpus().length} cores; groups ${args.groups.join(', ')}\n`);
  if (run('cli')) await benchCli(print);
  if (run('reports')) await benchReports(env, print);
  // Issue 23 D: retrieval quality needs only Postgres (no Temporal).
  if (run('kb')) await benchKb(env, print);
  if (!args.groups.some((g) => g !== 'cli' && g !== 'cluster' && g !== 'reports' && g !== 'kb')) {
    if (run('cluster')) await benchCluster(env, print);
    if (args.json) writeJson(args.json, args.groups, { merge: args.merge });
    return;
  }
  installTemporalRuntime(createLogger('error'), 'ERROR');
  const cli = await ensureTemporalCli({
    explicitPath: env.TEMPORAL_CLI_PATH,
    pathEnv: env.PATH,
    cacheDir: env.CACHE_DIR,
  });
  // In memory, as the tests run it, with npm start's dynamic config (the pragmas are the file's).
  const temporalEnv = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli.path },
      ip: '127.0.0.1',
      searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
      extraArgs: [
        '--log-level',
        'never',
        ...devServerTuningArgs(
          args.memoryFlags === null ? { ...DEV_SERVER_TUNING, sqlitePragmas: [] } : parseDevFlags(args.memoryFlags),
        ),
      ],
    },
  });
  const cleanup: (() => Promise<unknown>)[] = [() => temporalEnv.teardown()];

  let databaseUrl: string;
  let embedded = false;
  const admin = postgres(env.TEST_DATABASE_URL, { max: 1, onnotice: () => undefined, connect_timeout: 3 });
  try {
    const name = `causeway_bench_${randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database ${name}`);
    const url = new URL(env.TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    cleanup.push(async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    });
  } catch {
    await admin.end().catch(() => undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-'));
    const pg = await startEmbeddedPostgres(dir);
    databaseUrl = pg.url;
    embedded = true;
    cleanup.push(() => pg.stop());
  }
  await runMigrations(databaseUrl, { embedded });
  let queries = 0;
  // While a group asks for it (the idle window), which statements ran and how often.
  let statementLog: Map<string, number> | null = null;
  const database = createDb(databaseUrl, {
    max: 10,
    embedded,
    onQuery: (_connection, query) => {
      queries += 1;
      if (statementLog) statementLog.set(query, (statementLog.get(query) ?? 0) + 1);
    },
  });
  let apiUrlForCallbacks = '';
  const twilio = await startFakeTwilio({
    statusCallbacks: {
      rewrite: (url) => url.replace(PUBLIC, apiUrlForCallbacks),
      sign: (url, token, p) =>
        signedWebhook({ publicBaseUrl: PUBLIC, path: pathAndQuery(url), authToken: token, params: p }),
    },
  });
  const openai = await startFakeOpenAi();
  const taskQueue = `bench-${randomBytes(3).toString('hex')}`;
  const appEnv = loadEnv({
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalEnv.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PUBLIC_BASE_URL: PUBLIC,
    TWILIO_API_BASE_URL: twilio.url,
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: openai.url,
    MESSAGE_DEBOUNCE: '0s',
    NPS_WAIT: '0s',
    LOG_LEVEL: 'silent',
    CAMPAIGN_DELIVERY_TIMEOUT: '30s',
  });
  // Measured as production runs: with payload encryption (a throwaway key for this run).
  const payloadKeys = [{ id: 'bench', key: randomBytes(32) }];
  const temporal = createTemporalClient({ address: temporalEnv.address, namespace: 'default', payloadKeys });
  const log = createLogger('silent');
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const { tenant } = await createTenant(database.db, {
    slug: `bench-${randomBytes(3).toString('hex')}`,
    name: 'bench',
    accountSid,
    authToken,
    mode: 'live',
    numbers: [{ channel: 'whatsapp', phone }],
  });
  // Campaign contacts never wrote: WhatsApp needs the tenant's approved template for business-initiated sends.
  for (const purpose of ['broadcast', 'outage_notice'] as const)
    await setContentTemplate(database.db, {
      tenantId: tenant.id,
      purpose,
      contentSid: `HX${randomBytes(16).toString('hex')}`,
      variables: { 1: 'text' },
    });
  twilio.addAccount(accountSid, authToken);
  console.log(`Postgres ${embedded ? 'embedded PGlite' : new URL(databaseUrl).host}, Temporal CLI ${cli.source}\n`);

  // The no-op pipeline beside Causeway's, on the same server: its worker in this process, its webhook on a route.
  const noopQueue = `${taskQueue}-noop`;
  const sender = { publicBaseUrl: PUBLIC, accountSid, authToken, phone };
  const replies = watchReplies(twilio);
  // Null: the throughput group reads the chosen shape from Causeway's histories (bench/hops.ts).
  const chosen = args.shape ? parseShape(args.shape) : null;
  const stack = {
    namespace: 'default',
    databaseUrl,
    publicBaseUrl: PUBLIC,
    twilioUrl: twilio.url,
    openaiUrl: openai.url,
    payloadKeys: formatPayloadKeys(payloadKeys),
    secretsKeys: SECRETS_KEYS,
    authToken,
  };

  // Worker + API over HTTP for the rest.
  const connection = await NativeConnection.connect({ address: temporalEnv.address });
  const workflowBundle = await bundleWorkflowCode({
    ...WORKFLOW_BUNDLE_OPTIONS,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const worker = await createWorker({
    env: appEnv,
    db: database.db,
    client: temporal.client,
    connection,
    log,
    payloadKeys,
    workflowBundle,
  });
  const running = worker.run();
  const noopWorker = await startNoopWorker({
    connection,
    client: temporal.client,
    namespace: 'default',
    taskQueue: noopQueue,
    payloadKeys,
    twilioUrl: twilio.url,
    authToken,
  });
  const listen = async (fetch: (request: Request) => Response | Promise<Response>) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => server.once('listening', () => r()));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  const { server, url: apiUrl } = await listen(
    createApp({ env: appEnv, db: database.db, temporal: temporal.client, log }).fetch,
  );
  apiUrlForCallbacks = apiUrl;
  const noopServer = await listen(
    noopRoutes({
      client: temporal.client,
      taskQueue: noopQueue,
      startQueue: `${noopQueue}-unpolled`,
      authToken,
      publicBaseUrl: PUBLIC,
    }).fetch,
  );

  // What the inbound and counts groups both work with.
  const inboundContext = {
    appEnv,
    db: database.db,
    client: temporal.client,
    log,
    sender,
    replies,
    twilio,
    queries: () => queries,
    apiUrl,
    noopUrl: noopServer.url,
    noopQueue,
    stack: { ...stack, temporalAddress: temporalEnv.address },
  };
  if (run('inbound')) await benchInbound(inboundContext, print);

  if (run('counts'))
    await benchCounts(
      {
        ...inboundContext,
        logStatements: (on) => {
          const log = statementLog;
          statementLog = on ? new Map() : null;
          return log;
        },
      },
      print,
    );

  if (run('slowai'))
    await benchSlowAi(
      { db: database.db, client: temporal.client, tenantId: tenant.id, apiUrl, sender, openai, twilio },
      print,
    );

  if (run('idle'))
    await benchIdle(
      {
        cliPath: cli.path,
        stack,
        sender,
        twilio,
        routeCallbacks: (url) => {
          apiUrlForCallbacks = url ?? apiUrl;
        },
        adminUrl: embedded ? null : env.TEST_DATABASE_URL,
        cacheBound: env.WORKER_MAX_CACHED_WORKFLOWS,
        conversations: args.idleConversations,
        ...(args.idleRate ? { rate: args.idleRate } : {}),
        nudges: args.idleNudges,
      },
      print,
    );

  const throughput = {
    cliPath: cli.path,
    stack,
    sender,
    replies,
    chosen,
    routeCallbacks: (url: string | null) => {
      apiUrlForCallbacks = url ?? apiUrl;
    },
  };
  if (run('throughput') || run('curve'))
    await benchThroughput(throughput, print, {
      curve: run('curve') ? [0.25, 0.5, 0.75, 1, 1.25, 1.5] : [0.5, 0.8, 1],
      curveSeconds: run('curve') ? 20 : 8,
    });
  if (run('devserver'))
    await benchDevServer(
      throughput,
      print,
      args.devFlags !== null
        ? [DEV_SERVER_CANDIDATES[0]!, ['--dev-flags', parseDevFlags(args.devFlags)]]
        : args.devSets
          ? args.devSets.map((i) => DEV_SERVER_CANDIDATES[i]!)
          : DEV_SERVER_CANDIDATES,
    );

  // 4. Campaign pacing: 2,000 targets against a 50/s limit on one sender, delivery callbacks flowing back. The fake
  //    Twilio and the API taking its callbacks run in child processes of their own (bench/twilio-peer.ts), as they
  //    would in production; this process is the worker, with its own task queue.
  if (run('campaign')) {
    const spawnPeer = async <T>(role: 'api' | 'twilio', extra: Record<string, string> = {}) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(import.meta.dirname, 'twilio-peer.ts'),
          JSON.stringify({
            databaseUrl,
            temporalAddress: temporalEnv.address,
            publicBaseUrl: PUBLIC,
            accountSid,
            authToken,
            payloadKeys: formatPayloadKeys(payloadKeys),
            secretsKeys: SECRETS_KEYS,
            role,
            ...extra,
          }),
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const urls = await new Promise<T>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the ${role} peer exited (${code})`)));
        child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as T));
      });
      return { child, urls };
    };
    const apiPeer = await spawnPeer<{ apiUrl: string }>('api');
    const twilioPeer = await spawnPeer<{ twilioUrl: string; controlUrl: string }>('twilio', {
      apiUrl: apiPeer.urls.apiUrl,
    });
    const peerUrls = twilioPeer.urls;
    const paceQueue = `${taskQueue}-pace`;
    const paceWorker = await createWorker({
      env: { ...appEnv, TEMPORAL_TASK_QUEUE: paceQueue, TWILIO_API_BASE_URL: peerUrls.twilioUrl },
      db: database.db,
      client: temporal.client,
      connection,
      log,
      payloadKeys,
      workflowBundle,
    });
    const paceRunning = paceWorker.run();
    const sentTimes = async () => (await (await fetch(`${peerUrls.controlUrl}/sent`)).json()) as number[];
    // Issue 25 C: the pacer from 50/s to 200/s (BENCH_CAMPAIGN_LIMITS), about 40 s of sending at each limit.
    for (const limit of env.BENCH_CAMPAIGN_LIMITS) {
      const n = 40 * limit;
      const before = (await sentTimes()).length;
      // Kind `outage` is a `utility` send: the outbound policy's legal contact hours apply to collection and
      // marketing only (a broadcast to these numbers on a Sunday is held until Monday), so the bench runs any day.
      const rows = Array.from(
        { length: n },
        (_, i) => `+5521${String(800000000 + limit * 1000 + i)},Cliente ${i}`,
      ).join('\n');
      const trace = newRootTrace();
      const created = await createCampaignFromFile(database.db, {
        tenantId: tenant.id,
        createdBy: 'bench',
        traceId: trace.traceId,
        options: {
          name: `bench-rate-${limit}`,
          body: 'Aviso para {{name}}',
          kind: 'outage',
          ratePerSecond: limit,
          maxAttempts: 1,
          activeHours: 'always',
        },
        file: { name: 'rate.csv', content: `phone,name\n${rows}` },
      });
      const q0 = queries;
      // The first limit's run lists the worker's statements per target (where a pacing shortfall's CPU goes).
      const listing = limit === env.BENCH_CAMPAIGN_LIMITS[0];
      if (listing) statementLog = new Map();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await startCampaign(temporal.client, {
        campaignId: created.campaignId,
        tenantId: tenant.id,
        tenantSlug: tenant.slug,
        taskQueue: paceQueue,
        trace,
        name: `bench-rate-${limit}`,
      });
      // A limit this machine cannot hold must not hang the bench (at 200/s on 2 cores the pacer's workflow tasks
      // time out and single-target retries pile up): after 3× the planned time + 60 s the campaign is cancelled and
      // the figures are those of the sends that went out, with the shortfall in the note.
      const handle = temporal.client.workflow.getHandle(campaignWorkflowId(created.campaignId));
      const deadlineMs = 3 * (n / limit) * 1000 + 60_000;
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        handle.result().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs))),
      ]);
      clearTimeout(timer);
      if (!finished) {
        await controlCampaign(temporal.client, created.campaignId, 'cancel', { actor: 'bench' });
        await handle.result().catch(() => undefined);
      }
      const elapsed = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      if (listing) {
        const listed = [...(statementLog ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
        statementLog = null;
        console.log(`  the worker's statements per target at ${limit}/s (average over ${n}):`);
        for (const [text, count] of listed.slice(0, 25))
          console.log(`    ${(count / n).toFixed(2)}× ${text.replace(/\s+/g, ' ').slice(0, 110)}`);
      }
      const times = (await sentTimes()).slice(before).sort((a, b) => a - b);
      if (finished && times.length !== n)
        throw new Error(`expected ${n} sends at the fake Twilio, got ${times.length}`);
      const shortfall = finished
        ? undefined
        : `did not finish: ${times.length} of ${n} sent in ${elapsed.toFixed(0)} s, then cancelled`;
      if (shortfall) console.log(`  (${shortfall})`);
      console.log(
        `  (worker process: ${(((cpu.user + cpu.system) / 1e6 / elapsed) * 100).toFixed(0)}% of one core; ${((queries - q0) / n).toFixed(1)} SQL statements per target in the worker)`,
      );
      const sustained = (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000);
      const maxInWindow = busiestSecond(times);
      // Where a shortfall comes from: long pauses between sends (scheduling) or an evenly stretched cadence (CPU).
      const gaps = times
        .slice(1)
        .map((t, i) => t - times[i]!)
        .filter((g) => g > 2 * (1000 / limit));
      console.log(
        `  (${gaps.length} gaps over 2 intervals, ${(gaps.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s in all, longest ${Math.max(0, ...gaps)} ms)`,
      );
      console.log(
        `Campaign pacing: ${n} targets, limit ${limit}/s on one sender (fake Twilio receipt times; callbacks sent → delivered)`,
      );
      console.log(
        `  sustained ${sustained.toFixed(2)}/s = ${ratio(sustained, limit)} of the limit (goal ≥ 0.95×)   busiest 1 s window ${maxInWindow} = ${ratio(maxInWindow, limit)} (goal ≤ 1.05×)   campaign done in ${elapsed.toFixed(1)} s\n`,
      );
      const configured = { name: 'configured limit', value: limit };
      record(
        'campaign',
        `campaign sustained send rate at ${limit}/s`,
        sustained,
        '/s',
        configured,
        { of: 'ratio', op: '>=', limit: 0.95 },
        shortfall,
      );
      record(
        'campaign',
        `campaign busiest 1 s window at ${limit}/s`,
        maxInWindow,
        '/s',
        configured,
        { of: 'value', op: '<=', limit: Math.ceil(1.05 * limit) },
        shortfall,
      );
    }
    paceWorker.shutdown();
    await paceRunning;
    for (const { child } of [twilioPeer, apiPeer]) {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }

  // 5. A large campaign (C6): time and Temporal history sizes. A simulated sender keeps Twilio out of the figure.
  //    Only when `campaign` is named (`npm run bench -- campaign`): at 100,000 targets it takes minutes.
  if (args.named.includes('campaign')) {
    const n = env.BENCH_CAMPAIGN_TARGETS;
    const simPhone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const sim = await createTenant(database.db, {
      slug: `bench-sim-${randomBytes(3).toString('hex')}`,
      name: 'bench sim',
      accountSid: `AC${randomBytes(16).toString('hex')}`,
      authToken: randomBytes(16).toString('hex'),
      mode: 'simulated',
      numbers: [{ channel: 'whatsapp', phone: simPhone }],
    });
    await setContentTemplate(database.db, {
      tenantId: sim.tenant.id,
      purpose: 'outage_notice',
      contentSid: `HX${randomBytes(16).toString('hex')}`,
      variables: { 1: 'text' },
    });
    const rows = Array.from({ length: n }, (_, i) => `+55119${String(10000000 + i)},C${i}`).join('\n');
    const trace = newRootTrace();
    const i0 = performance.now();
    const created = await createCampaignFromFile(database.db, {
      tenantId: sim.tenant.id,
      createdBy: 'bench',
      traceId: trace.traceId,
      options: {
        name: 'bench-large',
        body: 'Aviso {{name}}',
        kind: 'outage', // a utility send, as the pacing runs above: the bench does not wait for legal hours
        ratePerSecond: 1000,
        maxAttempts: 1,
        activeHours: 'always',
      },
      file: { name: 'large.csv', content: `phone,name\n${rows}` },
    });
    const importSeconds = (performance.now() - i0) / 1000;
    const t0 = performance.now();
    await startCampaign(temporal.client, {
      campaignId: created.campaignId,
      tenantId: sim.tenant.id,
      tenantSlug: sim.tenant.slug,
      taskQueue,
      trace,
      name: 'bench-large',
    });
    const handle = temporal.client.workflow.getHandle(campaignWorkflowId(created.campaignId));
    const result = (await handle.result()) as { runs: number };
    const seconds = (performance.now() - t0) / 1000;
    // A run's history is read in pages of 100 events: a 100,000-target campaign run holds about 4 MB of history
    // (each claim's targets and slots, in and out), and one page of it all is over gRPC's 4 MB message limit.
    const historySize = async (workflowId: string, runId: string) => {
      let events = 0;
      let bytes = 0;
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await temporal.client.workflowService.getWorkflowExecutionHistory({
          namespace: 'default',
          execution: { workflowId, runId },
          maximumPageSize: 100,
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        events += page.history?.events?.length ?? 0;
        bytes += proto.temporal.api.history.v1.History.encode(page.history ?? {}).finish().length;
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
      return { events, bytes };
    };
    const runs: { events: number; bytes: number }[] = [];
    for await (const execution of temporal.client.workflow.list({
      query: `WorkflowId = '${campaignWorkflowId(created.campaignId)}'`,
    }))
      runs.push(await historySize(execution.workflowId, execution.runId));
    const pacerRuns: { events: number; bytes: number }[] = [];
    for await (const execution of temporal.client.workflow.list({
      query: `WorkflowType = 'pacerWorkflow' AND CausewayTenant = '${sim.tenant.slug}'`,
    }))
      pacerRuns.push(await historySize(execution.workflowId, execution.runId));
    const pacers = pacerRuns.map((r) => r.events);
    const maxMb = (rs: { bytes: number }[]) => (Math.max(0, ...rs.map((r) => r.bytes)) / 1e6).toFixed(1);
    const [row] = await database.db.select().from(campaigns).where(eq(campaigns.id, created.campaignId));
    console.log(`Large campaign: ${n} targets on a simulated sender, limit 1000/s (BENCH_CAMPAIGN_TARGETS to change)`);
    console.log(
      `  import (validate + one transaction) ${importSeconds.toFixed(1)} s; run ${seconds.toFixed(1)} s = ${(n / seconds).toFixed(0)} sends/s; ${row!.contactedTargets} contacted, ${row!.successfulContacts} successful`,
    );
    console.log(
      `  campaign workflow: ${result.runs} run(s), history events per run max ${Math.max(...runs.map((r) => r.events))} (total ${runs.reduce((a, b) => a + b.events, 0)}), ${maxMb(runs)} MB; sender pacer: ${pacers.length} run(s), max ${Math.max(0, ...pacers)} events, ${maxMb(pacerRuns)} MB (Temporal's limits: 51,200 events, 50 MB per run)\n`,
    );
    // Issue 25 C: the large campaign's figures in the JSON too (bench/README.md renders them); the history sizes
    // against Temporal's limit per run.
    record(
      'campaign',
      `large campaign: ${n} targets, import`,
      importSeconds,
      's',
      null,
      null,
      'validate + one transaction',
    );
    record(
      'campaign',
      `large campaign: ${n} targets, sends per second`,
      n / seconds,
      '/s',
      null,
      null,
      `run ${seconds.toFixed(0)} s on a simulated sender, limit 1000/s; ${row!.successfulContacts} successful`,
    );
    record(
      'campaign',
      'large campaign: history events per campaign run, max',
      Math.max(...runs.map((r) => r.events)),
      'events',
      null,
      { of: 'value', op: '<=', limit: 51_200 },
      `${result.runs} run(s), ${runs.reduce((a, b) => a + b.events, 0)} in all; Temporal's limit per run 51,200`,
    );
    record(
      'campaign',
      'large campaign: history size per campaign run, max',
      Math.max(...runs.map((r) => r.bytes)) / 1e6,
      'MB',
      null,
      { of: 'value', op: '<=', limit: 50 },
      `the largest of ${result.runs} run(s); Temporal's limit per run 50 MB (it warns at 10 MB)`,
    );
    record(
      'campaign',
      "large campaign: the sender pacer's history events, max",
      Math.max(0, ...pacers),
      'events',
      null,
      { of: 'value', op: '<=', limit: 51_200 },
      `${pacers.length} run(s)`,
    );
  }

  worker.shutdown();
  await Promise.all([running, noopWorker.stop()]);
  await new Promise((r) => server.close(r));
  await new Promise((r) => noopServer.server.close(r));
  await Promise.all([connection.close(), temporal.close(), twilio.close(), openai.close()]);
  await database.close();
  for (const step of cleanup.reverse()) await step();
  if (run('cluster')) await benchCluster(env, print);
  if (args.json) writeJson(args.json, args.groups, { merge: args.merge });
}

await main();
process.exit(0);
