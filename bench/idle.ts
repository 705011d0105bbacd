// Issue 25 B / DESIGN §6: what idle conversations cost, on the `npm start` shape: a dev server on a SQLite file
// (npm start's tuning), Causeway's worker (`worker.ts`) and API (`src/api/server.ts`) in processes of their own on
// their own task queue. Opens N conversations through the webhook (each answered, then waiting on its idle-nudge
// timer), and reports
//   - the worker process's RSS (/proc/<pid>/status) before opening, when the opened count reaches the workflow cache
//     bound (WORKER_MAX_CACHED_WORKFLOWS), at the end, and after a worker restart: memory flat beyond the cache;
//   - Postgres transactions per minute (pg_stat_database: every process of the stack, not only this one) with none
//     open and with all N idle: zero per idle conversation, only the fixed Schedules;
//   - the dev server's SQLite file (+ WAL) per conversation;
//   - timer firing lateness: the idle nudges, due after the idle window and the restart, fire at about the opening
//     rate; for a sample, TimerFired − (TimerStarted + startToFireTimeout) and the worker's handling of it.
// `npm run bench -- idle --idle-conversations 10000`.
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import proto from '@temporalio/proto';
import { createTemporalClient } from '../src/temporal/connection';
import { workflowType } from '../src/contract/workflow-types';
import { childProcessEnv } from '../src/config/env';
import { workerNodeOptionsFor } from '../src/config/worker-heap';
import { freePortBlock } from '../test/support/ports';
import type { FakeTwilio } from '../test/support/fake-twilio';
import { atRate, busiestSecond, newCustomer, postInbound, quantile, watchReplies, type Sender } from './drive';
import { figure, record } from './figures';
import { causewayApi, causewayWorker, fileDevServer, type Child, type StackConfig } from './stack';

export interface IdleContext {
  cliPath: string;
  /** Everything of the stack's configuration but the server's address. */
  stack: Omit<StackConfig, 'temporalAddress'>;
  sender: Sender;
  twilio: FakeTwilio;
  /** Points the fake Twilio's status callbacks at this API (null: back to the bench's own). */
  routeCallbacks: (apiUrl: string | null) => void;
  /** A connection URL to another database of the same Postgres server (pg_stat_database is read from there). */
  adminUrl: string | null;
  /** WORKER_MAX_CACHED_WORKFLOWS of the worker under test (the environment's, as the child inherits it). */
  cacheBound: number;
  conversations: number;
  /** Webhooks per second while opening (an open loop; default 12/s, below the stack's sustained rate). */
  rate?: number;
  /** How long each measured window (none open, all idle) lasts. */
  idleWindowMs?: number;
  /** false: stop after the restart's RSS (memory only; no nudge or timer lateness figures). Default true. */
  nudges?: boolean;
}

const G = 'idle';
const WEBHOOK = '/webhooks/twilio/messages';
/** How long the restarted worker runs before its RSS is read: started, polling, its first (empty) minute begun. */
const AFTER_RESTART_MS = 10_000;
/** The timers whose lateness is read from their histories. */
const SAMPLE = 200;
const STATS_FLUSH_MS = 12_000;

const mb = (kb: number) => kb / 1024;
/** A process's resident set in KB, as the kernel counts it. */
export function processRssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
}
const fileBytes = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);
const sqliteBytes = (file: string) => fileBytes(file) + fileBytes(`${file}-wal`);
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
/** A measured window (the figure is what happens during it), not a synchronization. */
const during = (windowMs: number) => new Promise((r) => setTimeout(r, Math.max(0, windowMs)));

export async function benchIdle(ctx: IdleContext, print: (line: string) => void) {
  const n = ctx.conversations;
  const rate = ctx.rate ?? 12;
  const windowMs = ctx.idleWindowMs ?? 60_000;
  const bound = ctx.cacheBound;
  // The idle nudge (src/workflows/conversation.ts: `lastActivityAt + idleAfterMs`, the AI in charge) must fall after
  // the opening (with slack for an opening slower than offered), the idle window and the restart; the close long after.
  const openingBudgetMs = Math.ceil(((n / rate) * 1000 * 13) / 10) + 20_000;
  const restartBudgetMs = 90_000;
  const idleAfterMs = openingBudgetMs + STATS_FLUSH_MS + windowMs + restartBudgetMs;
  const server = await fileDevServer({ cliPath: ctx.cliPath, namespace: ctx.stack.namespace });
  const stack: StackConfig = { ...ctx.stack, temporalAddress: server.address };
  const queue = `bench-idle-${randomBytes(3).toString('hex')}`;
  const metricsPort = await freePortBlock(2);
  const workerEnv = {
    CONVERSATION_IDLE_AFTER: `${Math.ceil(idleAfterMs / 1000)}s`,
    CONVERSATION_CLOSE_AFTER: '12h',
    WORKER_MAX_CACHED_WORKFLOWS: String(bound),
    // Its /metrics (and the SDK's exporter beside it, port + 1): the sticky cache's size is read from there.
    WORKER_METRICS_PORT: String(metricsPort),
    WORKER_SDK_METRICS_PORT: String(metricsPort + 1),
  };
  const temporal = createTemporalClient({ address: server.address, namespace: ctx.stack.namespace, payloadKeys: null });
  const databaseName = decodeURIComponent(new URL(ctx.stack.databaseUrl).pathname.slice(1));
  const admin = ctx.adminUrl ? postgres(ctx.adminUrl, { max: 1, onnotice: () => undefined }) : null;
  /** Transactions of the bench database so far, every process's (committed + rolled back). */
  const transactions = async () => {
    if (!admin) return NaN;
    const [row] = await admin<{ n: string }[]>`
      select xact_commit + xact_rollback as n from pg_stat_database where datname = ${databaseName}`;
    return Number(row?.n ?? NaN);
  };
  /** Rows inserted, updated or deleted per table of the bench database so far (where an idle window's writes go). */
  const tableWrites = async () => {
    const rows = new Map<string, number>();
    if (!ctx.adminUrl) return rows;
    const url = new URL(ctx.adminUrl);
    url.pathname = `/${databaseName}`;
    const db = postgres(url.toString(), { max: 1, onnotice: () => undefined });
    try {
      for (const r of await db<{ name: string; n: string }[]>`
        select relname as name, n_tup_ins + n_tup_upd + n_tup_del as n from pg_stat_user_tables`)
        rows.set(r.name, Number(r.n));
    } finally {
      await db.end();
    }
    return rows;
  };
  /** Workflows in the worker's sticky cache (the SDK's gauge), null when the exporter does not answer. */
  const cachedWorkflows = async (): Promise<number | null> => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort + 1}/metrics`)).text();
      const line = text.split('\n').find((l) => /^temporal_sticky_cache_size\b/.test(l));
      return line ? Number(line.trim().split(/\s+/).at(-1)) : null;
    } catch {
      return null;
    }
  };
  /** Resolves once a poller of `pid` (the SDK's identity is `<pid>@<host>`) polls the queue's workflow tasks. */
  const polling = async (pid: number) => {
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const { pollers } = await temporal.client.workflowService.describeTaskQueue({
        namespace: ctx.stack.namespace,
        taskQueue: { name: queue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (pollers?.some((p) => p.identity?.startsWith(`${pid}@`))) return;
      await during(200); // polling the server's answer, bounded above
    }
    throw new Error(`the restarted worker (pid ${pid}) did not poll ${queue} within 60 s`);
  };

  // The V8 old-space limit the worker runs with (bench/stack.ts gives it as its supervisor does; NODE_OPTIONS's own wins).
  const heapLimitMb = Number(
    /--max[-_]old[-_]space[-_]size[= ](\d+)/.exec(workerNodeOptionsFor(childProcessEnv(workerEnv)))?.[1] ?? NaN,
  );
  print(
    `\nidle conversations on the npm start stack (dev server on a SQLite file; worker and API in their own processes): ${n} opened at ${rate}/s, cache bound ${bound}, worker --max-old-space-size=${heapLimitMb}, idle nudge after ${Math.ceil(idleAfterMs / 1000)} s`,
  );
  record(G, 'worker V8 old-space limit (per isolate)', heapLimitMb, 'MB');
  let worker: Child | null = null;
  let api: Child | null = null;
  try {
    worker = await causewayWorker(stack, queue, workerEnv);
    api = await causewayApi(stack, queue, {
      CONVERSATION_IDLE_AFTER: workerEnv.CONVERSATION_IDLE_AFTER,
      CONVERSATION_CLOSE_AFTER: workerEnv.CONVERSATION_CLOSE_AFTER,
    });
    ctx.routeCallbacks(api.url);
    await polling(worker.pid);
    const replies = watchReplies(ctx.twilio);

    // Baseline: a window with no conversation open (the fixed Schedules only, every process of the stack).
    const b0 = await transactions();
    await during(windowMs);
    const baselinePerMinute = (((await transactions()) - b0) * 60_000) / windowMs;
    const rssBefore = processRssKb(worker.pid);
    const sqliteBefore = sqliteBytes(server.sqliteFile);

    // Opening: N new customers, each answered; the RSS is read when the answered count reaches the cache bound.
    const customers = new Set<string>();
    let opened = 0;
    const atBound: { rss?: number; cached?: number | null; cpuMs?: number } = {};
    const cpuBefore = worker.cpuMs();
    const openedAt = Date.now();
    const started = performance.now();
    const latencies = await atRate(n, rate, async () => {
      const from = newCustomer();
      customers.add(from);
      const replied = replies.expect(from, 600_000);
      await postInbound(ctx.sender, api!.url, WEBHOOK, from, {}, ctx.twilio);
      await replied;
      opened += 1;
      if (opened === bound) {
        atBound.rss = processRssKb(worker!.pid);
        atBound.cpuMs = worker!.cpuMs();
        atBound.cached = await cachedWorkflows();
      }
    });
    const openSeconds = (performance.now() - started) / 1000;
    // The opening's tail: every delivery callback of the replies answered.
    await ctx.twilio.waitFor(() => ctx.twilio.callbacksInFlight === 0, 600_000);
    const rssOpen = processRssKb(worker.pid);
    const cpuOpen = worker.cpuMs();
    const cachedOpen = await cachedWorkflows();
    const sqliteOpen = sqliteBytes(server.sqliteFile);
    const rssAtBound = atBound.rss;
    figure(
      G,
      'conversations opened (open, each with a pending timer)',
      n,
      'conv',
      null,
      null,
      `${(n / openSeconds).toFixed(1)}/s achieved of ${rate}/s offered; inbound → reply p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms`,
    );
    if (cachedOpen !== null)
      figure(G, 'workflows in the worker cache after opening', cachedOpen, 'wf', null, {
        of: 'value',
        op: '<=',
        limit: bound,
      });
    figure(
      G,
      'worker RSS after opening',
      mb(rssOpen),
      'MB',
      { name: 'before opening', value: mb(rssBefore) },
      null,
      rssAtBound === undefined
        ? `the cache bound (${bound}) was not reached`
        : `${mb(rssAtBound).toFixed(0)} MB when ${bound} were open (${atBound.cached ?? '?'} cached)`,
    );
    if (rssAtBound !== undefined) {
      const inside = (rssAtBound - rssBefore) / bound;
      figure(G, 'worker RSS growth per conversation inside the cache', inside, 'KB');
      if (n > bound) {
        // The bar: with an LRU cache of `bound` workflows, a conversation beyond it evicts another, so it should cost
        // nothing once opened. ≤ 10 % of the per-cached cost: a leak of a tenth of it would add ≈ 1.9 GB at 10,000
        // conversations (9,500 × 0.2 MB) and MISS, while GC and allocator jitter (tens of MB of RSS) spread over the
        // conversations beyond the bound stays well below it even at the small runs (≈ 40 MB / 400 = 0.1 MB).
        figure(
          G,
          'worker RSS growth per conversation beyond the cache',
          (rssOpen - rssAtBound) / (n - bound),
          'KB',
          { name: 'inside the cache', value: inside },
          { of: 'ratio', op: '<=', limit: 0.1 },
        );
      }
    }

    // The worker's CPU while opening (/proc, user + system): a tighter heap bound costs more garbage collection.
    figure(
      G,
      'worker CPU per conversation opened',
      (cpuOpen - cpuBefore) / n,
      'ms',
      null,
      null,
      atBound.cpuMs === undefined || n <= bound
        ? `${((cpuOpen - cpuBefore) / 1000).toFixed(0)} s in all`
        : `${((atBound.cpuMs - cpuBefore) / bound).toFixed(1)} ms inside the cache, ${((cpuOpen - atBound.cpuMs) / (n - bound)).toFixed(1)} ms beyond it`,
    );

    const sqliteGrowth = sqliteOpen - sqliteBefore;
    figure(
      G,
      "dev server's SQLite file + WAL after opening",
      sqliteOpen / 1024 / 1024,
      'MB',
      null,
      null,
      `${(sqliteGrowth / n / 1024).toFixed(1)} KB per conversation`,
    );
    record(G, "dev server's SQLite bytes per open conversation", sqliteGrowth / n / 1024, 'KB');

    // The idle window: nothing is posted; only the fixed Schedules (inbox drain, reconciliation) may query. It ends
    // before the first nudge is due (with the restart's time), should the opening have run over its budget.
    const firstNudgeAt = openedAt + idleAfterMs;
    const idleMs = Math.min(windowMs, firstNudgeAt - restartBudgetMs - STATS_FLUSH_MS - Date.now());
    if (idleMs < windowMs)
      print(
        `  (the opening ran over its budget: the idle window is ${(idleMs / 1000).toFixed(0)} s, not ${windowMs / 1000})`,
      );
    // Backends report their counters to pg_stat_database when idle, at the latest 10 s after their last transaction
    // (PGSTAT_IDLE_INTERVAL): the opening's last transactions are let in before the window starts.
    await during(STATS_FLUSH_MS);
    const tables0 = await tableWrites();
    const q0 = await transactions();
    await during(idleMs);
    const perMinute = (((await transactions()) - q0) * 60_000) / Math.max(1, idleMs);
    const tables1 = await tableWrites();
    const written = [...tables1]
      .map(([table, rows]) => [table, rows - (tables0.get(table) ?? 0)] as const)
      .filter(([, rows]) => rows > 0)
      .sort((a, b) => b[1] - a[1]);
    if (written.length)
      print(
        `    rows written while idle: ${written
          .slice(0, 8)
          .map(([t, r]) => `${t} ${r}`)
          .join(', ')}`,
      );
    // The reconciliation Schedule (every RECONCILE_INTERVAL, 10 min) reads Twilio's log and records the price of each
    // recent outbound message once (send_decisions.price): when a run falls in the window, the opening's replies are
    // priced inside it, a one-time cost per message sent that this window then counts per idle conversation.
    const reconciled = written.some(([table]) => table === 'reconcile_watermarks');
    if (reconciled)
      print(
        "    (a reconciliation run fell in the idle window: its price updates of the opening's replies are a one-time cost per message, not a cost of waiting)",
      );
    if (admin) {
      figure(G, `database transactions per minute with ${n} idle conversations`, perMinute, 'xact/min', {
        name: 'none open (fixed Schedules only)',
        value: baselinePerMinute,
      });
      figure(
        G,
        // DESIGN's bar, 0.001 per idle conversation a minute, per 1,000 of them (printed with two decimals).
        'database transactions per 1,000 idle conversations per minute (over the baseline)',
        (Math.max(0, perMinute - baselinePerMinute) / n) * 1000,
        'xact',
        null,
        { of: 'value', op: '<=', limit: 1 },
        `pg_stat_database of the bench database: every process of the stack${reconciled ? '; a reconciliation run fell in the window' : ''}`,
      );
    } else print('  (embedded Postgres: no pg_stat_database, the idle cost is not measured)');

    // A restart: the old worker drains and exits, a new one polls the same queue with an empty cache.
    await worker.stop();
    worker = null;
    worker = await causewayWorker(stack, queue, workerEnv);
    await polling(worker.pid);
    await during(AFTER_RESTART_MS);
    const rssRestart = processRssKb(worker.pid);
    figure(
      G,
      'worker RSS after a restart',
      mb(rssRestart),
      'MB',
      { name: 'before the restart', value: mb(rssOpen) },
      null,
      `${n} conversations still open; ${AFTER_RESTART_MS / 1000} s after it polled`,
    );
    if (ctx.nudges === false) return;

    // The nudges: one timer per conversation, due `idleAfter` after its answer, so they fire at about the opening's
    // rate; each one's nudge is the second message its customer gets.
    const nudgeTimes = new Map<string, number>();
    const seen = new Map<string, number>();
    let scanned = 0;
    const lastDue = openedAt + idleAfterMs + openSeconds * 1000;
    const allNudged = ctx.twilio.waitFor(
      (sent) => {
        for (; scanned < sent.length; scanned += 1) {
          const m = sent[scanned]!;
          if (!customers.has(m.to)) continue;
          const count = (seen.get(m.to) ?? 0) + 1;
          seen.set(m.to, count);
          if (count === 2) nudgeTimes.set(m.to, m.dateCreated.getTime());
        }
        return nudgeTimes.size >= n;
      },
      Math.max(60_000, lastDue - Date.now() + 300_000),
    );
    await allNudged.catch(() => print(`  (only ${nudgeTimes.size} of ${n} nudges were sent in time)`));
    await ctx.twilio.waitFor(() => ctx.twilio.callbacksInFlight === 0, 600_000);
    const rssNudged = processRssKb(worker.pid);
    const cachedNudged = await cachedWorkflows();
    figure(
      G,
      'worker RSS after every nudge was sent',
      mb(rssNudged),
      'MB',
      { name: 'after the restart', value: mb(rssRestart) },
      null,
      `the restarted worker replayed all ${n}; ${cachedNudged ?? '?'} cached`,
    );

    // Lateness, for a sample of the conversations (histories through the client; visibility, then fetchHistory).
    const ids: string[] = [];
    for await (const execution of temporal.client.workflow.list({
      query: `WorkflowType = '${workflowType.conversationWorkflow}' AND TaskQueue = '${queue}'`,
    }))
      ids.push(execution.workflowId);
    const step = Math.max(1, Math.floor(ids.length / SAMPLE));
    const sample = ids.filter((_, i) => i % step === 0).slice(0, SAMPLE);
    const fired: number[] = [];
    const handled: number[] = [];
    const firedAt: number[] = [];
    for (const id of sample) {
      const { events } = await temporal.client.workflow.getHandle(id).fetchHistory();
      const byId = new Map((events ?? []).map((e) => [Number(e.eventId), e]));
      for (const e of events ?? []) {
        const attrs = e.timerFiredEventAttributes;
        if (!attrs) continue;
        const startedEvent = byId.get(Number(attrs.startedEventId));
        const timeout = startedEvent?.timerStartedEventAttributes?.startToFireTimeout;
        if (!startedEvent || !timeout) continue;
        const due = ms(startedEvent.eventTime) + ms(timeout);
        const at = ms(e.eventTime);
        fired.push(at - due);
        firedAt.push(at);
        // The worker's answer to it: the first workflow task completed after the timer fired.
        const done = (events ?? []).find(
          (x) => Number(x.eventId) > Number(e.eventId) && x.workflowTaskCompletedEventAttributes,
        );
        if (done) handled.push(ms(done.eventTime) - due);
      }
    }
    const p = (v: number[], q: number) => (v.length ? quantile(v, q) : NaN);
    const nudgePeak = busiestSecond([...nudgeTimes.values()]);
    figure(
      G,
      'timer firing lateness p99 (TimerFired − due)',
      p(fired, 0.99),
      'ms',
      null,
      null,
      `p50 ${p(fired, 0.5).toFixed(0)} ms, max ${Math.max(...fired).toFixed(0)} ms; ${fired.length} timers of ${sample.length} sampled conversations`,
    );
    record(G, 'timer firing lateness p50 (TimerFired − due)', p(fired, 0.5), 'ms');
    record(G, 'timer firing lateness max (TimerFired − due)', Math.max(...fired), 'ms');
    figure(
      G,
      "timer handling lateness p99 (the worker's next completed task − due)",
      p(handled, 0.99),
      'ms',
      null,
      null,
      `p50 ${p(handled, 0.5).toFixed(0)} ms, max ${Math.max(...handled).toFixed(0)} ms; each one a cache miss and replay on the restarted worker`,
    );
    figure(
      G,
      'nudges sent in the busiest second (every timer of the N)',
      nudgePeak,
      '/s',
      null,
      null,
      `${n} nudges over ${((Math.max(...nudgeTimes.values()) - Math.min(...nudgeTimes.values())) / 1000).toFixed(0)} s; the timers fire as the conversations were opened`,
    );
  } finally {
    ctx.routeCallbacks(null);
    await Promise.all([worker?.stop(), api?.stop()]);
    await temporal.close();
    await admin?.end();
    await server.stop();
  }
}
