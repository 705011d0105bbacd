// Issue 25 B / DESIGN §6: what idle conversations cost. Opens N conversations through the webhook (each gets its
// reply, then waits on its idle timer), and reports the worker's memory against its workflow cache, the number of
// workflows the cache holds, and the database statements per minute while all of them wait (the bar: zero per
// conversation; only the fixed Schedules run). `npm run bench -- idle --idle-conversations 10000`.
import { serve } from '@hono/node-server';
import type { NativeConnection } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/api/app';
import type { Env } from '../src/config/env';
import type { Database } from '../src/db/client';
import type { Logger } from '../src/logger';
import type { PayloadKey } from '../src/temporal/payload-codec';
import type { FakeTwilio } from '../test/support/fake-twilio';
import { createWorker } from '../worker';
import { atRate, newCustomer, postInbound, watchReplies, type Sender } from './drive';
import { figure, record } from './figures';

export interface IdleContext {
  appEnv: Env;
  db: Database;
  client: Client;
  connection: NativeConnection;
  log: Logger;
  payloadKeys: PayloadKey[];
  workflowBundle: { code: string };
  twilio: FakeTwilio;
  sender: Sender;
  queries: () => number;
  /** Starts (true) or stops (false) logging statement texts; stopping returns what was logged. */
  logStatements: (on: boolean) => Map<string, number> | null;
  conversations: number;
  /** Webhooks per second while opening (an open loop). */
  rate?: number;
  /** How long the idle window whose statements are counted lasts. */
  idleWindowMs?: number;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

export async function benchIdle(ctx: IdleContext, print: (line: string) => void) {
  const n = ctx.conversations;
  const rate = ctx.rate ?? 20;
  const windowMs = ctx.idleWindowMs ?? 60_000;
  // Its own task queue and API, with timers far beyond the bench: every conversation stays open and waiting.
  const env: Env = {
    ...ctx.appEnv,
    TEMPORAL_TASK_QUEUE: `${ctx.appEnv.TEMPORAL_TASK_QUEUE}-idle`,
    CONVERSATION_IDLE_AFTER: 6 * 3_600_000,
    CONVERSATION_CLOSE_AFTER: 12 * 3_600_000,
  };
  print(`\nidle conversations: ${n} opened at ${rate}/s, cache bound ${env.WORKER_MAX_CACHED_WORKFLOWS}:`);
  const worker = await createWorker({
    env,
    db: ctx.db,
    client: ctx.client,
    connection: ctx.connection,
    log: ctx.log,
    payloadKeys: ctx.payloadKeys,
    workflowBundle: ctx.workflowBundle,
  });
  const running = worker.run();
  const server = serve({
    fetch: createApp({ env, db: ctx.db, temporal: ctx.client, log: ctx.log }).fetch,
    port: 0,
    hostname: '127.0.0.1',
  });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const replies = watchReplies(ctx.twilio);
  try {
    // Baseline: the same window with no conversation open on this queue (the fixed Schedules only).
    const b0 = ctx.queries();
    await new Promise((r) => setTimeout(r, windowMs)); // the measured window itself, not a synchronization
    const baselinePerMinute = ((ctx.queries() - b0) * 60_000) / windowMs;
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    await atRate(n, rate, async () => {
      const from = newCustomer();
      const replied = replies.expect(from, 600_000);
      await postInbound(ctx.sender, apiUrl, '/webhooks/twilio/messages', from, {}, ctx.twilio);
      await replied;
    });
    const openSeconds = (performance.now() - started) / 1000;
    const rssOpen = process.memoryUsage().rss;
    const cached = worker.getStatus().numCachedWorkflows;
    figure(
      'idle',
      `conversations opened (open, each with a pending timer)`,
      n,
      'conv',
      null,
      null,
      `${(n / openSeconds).toFixed(1)}/s achieved`,
    );
    figure('idle', 'workflows in the worker cache', cached, 'wf', null, {
      of: 'value',
      op: '<=',
      limit: env.WORKER_MAX_CACHED_WORKFLOWS + 0,
    });
    figure(
      'idle',
      'process RSS growth while opening',
      mb(rssOpen - rssBefore),
      'MB',
      null,
      null,
      `${mb(rssBefore).toFixed(0)} → ${mb(rssOpen).toFixed(0)} MB`,
    );
    record('idle', 'RSS growth per open conversation', (rssOpen - rssBefore) / 1024 / n, 'KB');

    // The idle window: nothing is posted; only the fixed Schedules (inbox drain, reconciliation) may query.
    // The opening's tail first: every delivery callback of the replies has been answered.
    await ctx.twilio.waitFor(() => ctx.twilio.callbacksInFlight === 0, 600_000);
    const q0 = ctx.queries();
    ctx.logStatements(true);
    await new Promise((r) => setTimeout(r, windowMs)); // the measured idle window itself, not a synchronization
    const perMinute = ((ctx.queries() - q0) * 60_000) / windowMs;
    const statements = [...(ctx.logStatements(false) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
    for (const [text, count] of statements.slice(0, 6))
      print(`    ${count}× ${text.replace(/\s+/g, ' ').slice(0, 110)}`);
    figure('idle', `database statements per minute with ${n} idle conversations`, perMinute, 'stmt/min', {
      name: 'none open (fixed Schedules only)',
      value: baselinePerMinute,
    });
    figure(
      'idle',
      'database statements per idle conversation per minute (over the baseline)',
      Math.max(0, perMinute - baselinePerMinute) / n,
      'stmt',
      null,
      { of: 'value', op: '<=', limit: 0.001 },
    );
    const rssIdle = process.memoryUsage().rss;
    record('idle', 'process RSS after the idle window', mb(rssIdle), 'MB');
  } finally {
    await new Promise((r) => server.close(r));
    worker.shutdown();
    await running;
  }
}
