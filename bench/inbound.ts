// `npm run bench -- inbound`: what one message costs (SQL statements, history events), inbound → reply latency
// against the no-op pipeline of the same Temporal hops, webhook CPU against a bare route + signature check + one
// start, and webhook ack latency against a bare `workflow.start`; the API in its own process and in one process
// with the worker (as `npm start` ran it before the supervisor split them, and as `npm run cluster` can).
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { createApp } from '../src/api/app';
import type { Env } from '../src/config/env';
import { inboundWorkflowId } from '../src/contract';
import type { Database } from '../src/db/core/client';
import { newMessageSid, signedWebhook } from '../src/integrations/signed-webhook';
import type { Logger } from '../src/logger';
import type { FakeTwilio } from '../test/support/fake-twilio';
import { atRate, newCustomer, pipeline, quantile, type Replies, type Sender } from './drive';
import { figure } from './figures';
import { noopConversationId } from './noop/activities';
import { noopRoutes } from './noop/pipeline';
import { describeShape, type Shape } from './noop/shape';
import { eventTime as at, historyOf, settled, steps, type Events } from './hops';
import { causewayApi, noopProcess, type StackConfig } from './stack';

const EventType = proto.temporal.api.enums.v1.EventType;
const WEBHOOK = '/webhooks/twilio/messages';

export interface InboundContext {
  appEnv: Env;
  db: Database;
  client: Client;
  log: Logger;
  sender: Sender;
  twilio: FakeTwilio;
  replies: Replies;
  queries: () => number;
  /** Starts (true) or stops (false) logging statements; returns the log collected until now. */
  logStatements?: (on: boolean) => Map<string, number> | null;
  /** Causeway's in-process API (its worker runs in this process). */
  apiUrl: string;
  /** The no-op routes in this process (its worker runs in this process). */
  noopUrl: string;
  noopQueue: string;
  stack: StackConfig;
}

async function quietCallbacks(twilio: FakeTwilio) {
  for (let i = 0; twilio.callbacksInFlight > 0 && i < 500; i += 1) await new Promise((r) => setTimeout(r, 10)); // no event for it
}

interface PassResult {
  latencies: number[];
  /** Customer-perceived (issue 22 E): webhook POST → the WhatsApp typing indicator reaching Twilio, ms. */
  typing: number[];
  queries: number;
  inboundEvents: number;
  conversationEvents: number;
  shape: Shape;
  /** The last message's events: its inbound workflow's, and the conversation's since the message before it. */
  last: { inbound: Events; conversation: Events };
  /** Where each reply's time went (ms per stage, see STAGES). */
  stages: Record<Stage, number[]>;
}

/**
 * A reply's time in stages, from the events the pipeline records (stamped by the process that records them, all on
 * this machine's clock) and the fake Twilio's receipt of the reply: so a miss of the latency bar says which step
 * holds it. Each stage ends where the next begins.
 */
const STAGES = {
  webhook: 'POST → message.stored (API, start inbound:<sid>, its task, the local step up to its statement)',
  route: 'message.stored → conversation.turn (signal-with-start, the conversation task, generateReply dispatched)',
  ai: 'conversation.turn → ai.called (turn context read, prompt, the model call)',
  send: 'ai.called → reply at Twilio (result stored, activity done, task, sendMessage: 2 statements + the call)',
} as const;
type Stage = keyof typeof STAGES;

async function stagesOf(db: Database, sid: string, postedAt: number, replyAt: number) {
  const rows = await db.execute<{ type: string; at: Date }>(sql`
    select e.type, min(e.occurred_at) as at from events e
    join messages m on m.trace_id = e.trace_id
    where m.provider_sid = ${sid} and m.direction = 'inbound'
      and e.type in ('message.stored', 'conversation.turn', 'ai.called')
    group by e.type`);
  const t = Object.fromEntries(rows.map((r) => [r.type, new Date(r.at).getTime()]));
  const marks = [postedAt, t['message.stored'], t['conversation.turn'], t['ai.called'], replyAt];
  if (marks.some((m) => m === undefined)) return null;
  return Object.fromEntries(
    (Object.keys(STAGES) as Stage[]).map((stage, i) => [stage, marks[i + 1]! - marks[i]!]),
  ) as Record<Stage, number>;
}

/**
 * Causeway, one message at a time: a new customer each (`existing`: a second message from each of `customers`).
 * After each reply it waits until the message's workflows and callbacks are done, so every statement and event is
 * attributed to its message.
 */
async function causewayPass(
  c: InboundContext,
  customers: string[],
  existing: boolean,
  // Each customer's conversation and its history length after their last message: the existing pass counts only
  // the events after it (this map was per pass, so an existing conversation counted its first message's events
  // too: 8 + 34 = 42 instead of 8 + 13).
  conversations = new Map<string, { id: string; events: number }>(),
): Promise<PassResult> {
  const latencies: number[] = [];
  const typing: number[] = [];
  let queries = 0;
  let inboundEvents = 0;
  let conversationEvents = 0;
  let shape: Shape = { inbound: null, conversation: { regular: 0, local: 0 } };
  let last: PassResult['last'] = { inbound: [], conversation: [] };
  const stages = Object.fromEntries(Object.keys(STAGES).map((k) => [k, [] as number[]])) as PassResult['stages'];
  for (const from of customers) {
    const before = { q: c.queries(), at: performance.now() };
    // The MessageSid is only known inside postInbound: find the inbound workflow by watching the next start.
    const sid = newMessageSid();
    const reply = c.replies.expect(from);
    const params = {
      MessageSid: sid,
      AccountSid: c.sender.accountSid,
      From: from,
      To: `whatsapp:${c.sender.phone}`,
      Body: 'olá',
      NumMedia: '0',
    };
    // Twilio's log has the customer's message: the WhatsApp window is open for the reply, as in real traffic
    // (without it the fake fails every reply with 63016 and this measures the redelivery path, not sent/delivered).
    c.twilio.receive({ sid, accountSid: c.sender.accountSid, from, to: params.To, body: params.Body });
    const request = signedWebhook({
      publicBaseUrl: c.sender.publicBaseUrl,
      path: WEBHOOK,
      authToken: c.sender.authToken,
      params,
    });
    const postedAt = Date.now();
    const res = await fetch(`${c.apiUrl}${WEBHOOK}`, { method: 'POST', headers: request.headers, body: request.body });
    await res.text();
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    await reply;
    latencies.push(performance.now() - before.at);
    const shown = c.twilio.typing.find((t) => t.messageId === sid);
    if (shown) typing.push(shown.at.getTime() - postedAt);
    let inbound: Events = [];
    let conversationId: string;
    try {
      const handle = c.client.workflow.getHandle(inboundWorkflowId(sid));
      const result = (await handle.result()) as { conversationWorkflowId: string };
      inbound = await historyOf(c.client, handle.workflowId);
      conversationId = result.conversationWorkflowId;
    } catch {
      // No inbound workflow: the webhook signal-with-started the conversation itself.
      conversationId = conversations.get(from)?.id ?? (await latestConversation(c.client));
    }
    await settled(c.client, conversationId);
    await quietCallbacks(c.twilio);
    const conversation = await historyOf(c.client, conversationId);
    const prior = existing ? (conversations.get(from)?.events ?? 0) : 0;
    conversations.set(from, { id: conversationId, events: conversation.length });
    queries += c.queries() - before.q;
    inboundEvents += inbound.length;
    conversationEvents += conversation.length - prior;
    const replyAt = c.twilio.sent
      .filter((m) => m.to === from)
      .at(-1)!
      .dateCreated.getTime();
    // After the count above: this read is the bench's, not the message's.
    const split = await stagesOf(c.db, sid, postedAt, replyAt);
    if (split) for (const k of Object.keys(split) as Stage[]) stages[k].push(split[k]);
    shape = {
      inbound: inbound.length ? steps(inbound) : null,
      conversation: steps(conversation.slice(prior), replyAt),
    };
    last = { inbound, conversation: conversation.slice(prior) };
  }
  return {
    latencies,
    typing,
    queries: queries / customers.length,
    inboundEvents: inboundEvents / customers.length,
    conversationEvents: conversationEvents / customers.length,
    shape,
    last,
    stages,
  };
}

/** The stage p50s of a pass, one line each (see STAGES). */
function printStages(print: (line: string) => void, label: string, pass: PassResult) {
  const n = pass.stages.webhook.length;
  if (n === 0) return;
  print(`  where the reply's time goes, ${label} (p50 of ${n} messages):`);
  for (const stage of Object.keys(STAGES) as Stage[])
    print(`    ${quantile(pass.stages[stage], 0.5).toFixed(1).padStart(6)} ms  ${STAGES[stage]}`);
}

async function latestConversation(client: Client): Promise<string> {
  for await (const execution of client.workflow.list({ query: "WorkflowType = 'conversationWorkflow'" }))
    return execution.workflowId;
  throw new Error('no conversation workflow found');
}

/** The no-op pipeline of `shape`, one message at a time (settled after each, as Causeway's pass). */
async function noopPass(c: InboundContext, shape: Shape, customers: string[]) {
  const one = pipeline(c.sender, c.replies, c.noopUrl, '/noop', { 'x-noop-shape': JSON.stringify(shape) });
  const latencies: number[] = [];
  for (const from of customers) {
    const t0 = performance.now();
    await one(from);
    latencies.push(performance.now() - t0);
    await settled(c.client, noopConversationId(from));
  }
  return { latencies };
}

type CpuCase = { post: () => Promise<unknown>; cpu: () => number };
/**
 * CPU per request of `n` POSTs of each case, measured by its `cpu()` (ms of CPU so far) around them. The cases take
 * turns in `rounds` blocks (each round in another order), so a change in the machine's load during the measurement
 * weighs on all of them alike instead of on whichever ran last (this machine is shared: a bench beside it moved a
 * ratio by 0.2 between two runs of the same build).
 */
async function cpuPerRequest<K extends string>(n: number, cases: Record<K, CpuCase>, rounds = 5) {
  const keys = Object.keys(cases) as K[];
  for (const key of keys) for (let i = 0; i < 20; i += 1) await cases[key].post(); // warm-up
  const spent = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  const block = Math.ceil(n / rounds);
  for (let r = 0; r < rounds; r += 1) {
    const order = r % 2 === 0 ? keys : [...keys].reverse();
    for (const key of order) {
      const before = cases[key].cpu();
      for (let i = 0; i < block; i += 1) await cases[key].post();
      spent[key] += cases[key].cpu() - before;
    }
  }
  return Object.fromEntries(keys.map((k) => [k, spent[k] / (block * rounds)])) as Record<K, number>;
}

const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The four count figures (bars 12 statements and 20 events per message, DESIGN §6). */
function countFigures(G: string, fresh: PassResult, again: PassResult) {
  figure(
    G,
    'SQL statements per message, new conversation',
    fresh.queries,
    'statements',
    null,
    { of: 'value', op: '<=', limit: 12 },
    "worker + API, the reply's status callbacks included",
  );
  figure(G, 'SQL statements per message, existing conversation', again.queries, 'statements', null, {
    of: 'value',
    op: '<=',
    limit: 12,
  });
  figure(
    G,
    'history events per message, new conversation',
    fresh.inboundEvents + fresh.conversationEvents,
    'events',
    null,
    { of: 'value', op: '<=', limit: 20 },
    `${fresh.inboundEvents.toFixed(0)} inbound + ${fresh.conversationEvents.toFixed(0)} conversation`,
  );
  figure(
    G,
    'history events per message, existing conversation',
    again.inboundEvents + again.conversationEvents,
    'events',
    null,
    { of: 'value', op: '<=', limit: 20 },
    `${again.inboundEvents.toFixed(0)} inbound + ${again.conversationEvents.toFixed(0)} conversation`,
  );
}

/** The blocks a pass ran in (see benchInbound), as one pass: every message's figures, the counts averaged by message. */
function mergePasses(passes: PassResult[]): PassResult {
  const all = (pick: (p: PassResult) => number[]) => passes.flatMap(pick);
  const messages = passes.reduce((sum, p) => sum + p.latencies.length, 0);
  const mean = (pick: (p: PassResult) => number) =>
    passes.reduce((sum, p) => sum + pick(p) * p.latencies.length, 0) / messages;
  const last = passes.at(-1)!;
  return {
    latencies: all((p) => p.latencies),
    typing: all((p) => p.typing),
    queries: mean((p) => p.queries),
    inboundEvents: mean((p) => p.inboundEvents),
    conversationEvents: mean((p) => p.conversationEvents),
    shape: last.shape,
    last: last.last,
    stages: Object.fromEntries(
      (Object.keys(STAGES) as Stage[]).map((k) => [k, passes.flatMap((p) => p.stages[k])]),
    ) as PassResult['stages'],
  };
}

/** Blocks a latency pass runs in, taking turns with its no-op pass. */
const ROUNDS = 4;

export async function benchInbound(c: InboundContext, print: (line: string) => void) {
  const G = 'inbound';
  const signedFor = (path: string, from = newCustomer()) => {
    const params = {
      MessageSid: newMessageSid(),
      AccountSid: c.sender.accountSid,
      From: from,
      To: `whatsapp:${c.sender.phone}`,
      Body: 'olá',
      NumMedia: '0',
    };
    return signedWebhook({ publicBaseUrl: c.sender.publicBaseUrl, path, authToken: c.sender.authToken, params });
  };
  const post = async (base: string, path: string, from?: string) => {
    const request = signedFor(path, from);
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: request.headers, body: request.body });
    await res.text();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  };

  // 1. What one message costs, and how long its reply takes, against the no-op pipeline of the same hops.
  //    Warm-up: 20 new conversations and a second message in each, and 20 no-op messages of each shape. Postgres
  //    plans a prepared statement anew for its first executions on each pooled connection (bind up to 4.5 ms for
  //    the turn's context read) and only then keeps a generic plan; with 5 warm-up messages the first pass, the new
  //    conversations', paid that while the existing pass after it mostly did not (2026-12-08).
  const warm = Array.from({ length: 20 }, newCustomer);
  const warmed = new Map<string, { id: string; events: number }>();
  const warmNew = await causewayPass(c, warm, false, warmed);
  const warmExisting = await causewayPass(c, warm, true, warmed);
  await noopPass(c, warmNew.shape, Array.from({ length: 20 }, newCustomer));
  const noopWarm = Array.from({ length: 20 }, newCustomer);
  await noopPass(c, warmExisting.shape, noopWarm);
  await noopPass(c, warmExisting.shape, noopWarm);
  // 60 a pass: with 20, one slow message of a shared machine moved a p95 by half (a no-op pass read 151 ms against
  // 58–94); with 40, a p95 is the 38th of 40 and two slow messages moved it by a tenth (2026-12-08).
  const n = 60;
  const customers = Array.from({ length: n }, newCustomer);
  const known = new Map<string, { id: string; events: number }>();
  const noopCustomers = Array.from({ length: n }, newCustomer);
  // Each pass beside its no-op pass in blocks that take turns (ROUNDS, the order alternating), so a change in the
  // shared machine's speed weighs on both sides alike, not on whichever ran its messages later (2026-12-08: one
  // build read 1.42–1.60× for the new conversation's p50 over six runs with whole passes).
  const inTurns = async (existing: boolean) => {
    const ours: PassResult[] = [];
    const theirs: number[] = [];
    const block = n / ROUNDS;
    for (let r = 0; r < ROUNDS; r += 1) {
      const mine = customers.slice(r * block, (r + 1) * block);
      const other = noopCustomers.slice(r * block, (r + 1) * block);
      const runOurs = async () => {
        ours.push(await causewayPass(c, mine, existing, known));
      };
      // The no-op runs the shape read from Causeway's warm-up histories (the same hops as the measured pass).
      const runTheirs = async () => {
        theirs.push(...(await noopPass(c, (existing ? warmExisting : warmNew).shape, other)).latencies);
      };
      if (r % 2 === 0) {
        await runOurs();
        await runTheirs();
      } else {
        await runTheirs();
        await runOurs();
      }
    }
    return { pass: mergePasses(ours), noop: { latencies: theirs } };
  };
  const { pass: fresh, noop: noopFresh } = await inTurns(false);
  const { pass: again, noop: noopAgain } = await inTurns(true);
  print(
    `Per inbound message, ${n} sequential messages, zero-latency AI, MESSAGE_DEBOUNCE=0s (dev server in memory, worker and API in this process)`,
  );
  print(`  Causeway's hops: new conversation ${describeShape(fresh.shape)}; existing ${describeShape(again.shape)}`);
  countFigures(G, fresh, again);
  const noop = { name: 'no-op pipeline, same hops' };
  for (const [label, pass, noopPass] of [
    ['new conversation', fresh, noopFresh],
    ['existing conversation', again, noopAgain],
  ] as const)
    for (const q of [0.5, 0.95])
      figure(
        G,
        `inbound → reply p${q * 100}, ${label}`,
        quantile(pass.latencies, q),
        'ms',
        { ...noop, value: quantile(noopPass.latencies, q) },
        { of: 'ratio', op: '<=', limit: 1.5 },
      );
  // Customer-perceived latency (issue 22 E): when "typing…" appears, beside when the reply does (above).
  for (const [label, pass] of [
    ['new conversation', fresh],
    ['existing conversation', again],
  ] as const) {
    if (pass.typing.length === 0) continue;
    for (const q of [0.5, 0.95])
      figure(
        G,
        `inbound → typing indicator p${q * 100}, ${label}`,
        quantile(pass.typing, q),
        'ms',
        null,
        null,
        `${pass.typing.length} of ${pass.latencies.length} messages; reply p${q * 100} ${quantile(pass.latencies, q).toFixed(0)} ms`,
      );
  }
  printStages(print, 'new conversation', fresh);
  printStages(print, 'existing conversation', again);
  print('');

  // 2. Webhook CPU per request: Causeway's webhook (starting on a queue no worker polls, so only the webhook's
  //    own work is measured) against the bare routes, each in its own process and in this one beside the worker.
  const nCpu = 200;
  const unpolled = `${c.appEnv.TEMPORAL_TASK_QUEUE}-unpolled`;
  const ownApi = await causewayApi(c.stack, unpolled);
  const ownBare = await noopProcess(c.stack, c.noopQueue, 'api');
  const inApp = createApp({
    env: { ...c.appEnv, TEMPORAL_TASK_QUEUE: unpolled },
    db: c.db,
    temporal: c.client,
    log: c.log,
  });
  const inBare = noopRoutes({
    client: c.client,
    taskQueue: c.noopQueue,
    startQueue: `${c.noopQueue}-unpolled`,
    authToken: c.sender.authToken,
    publicBaseUrl: c.sender.publicBaseUrl,
  });
  const inProcess = async (
    app: Hono<never> | ReturnType<typeof noopRoutes> | ReturnType<typeof createApp>,
    path: string,
  ) => {
    const request = signedFor(path);
    const res = await (app as Hono).request(`${c.sender.publicBaseUrl}${path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    await res.text();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  };
  try {
    print(
      `Webhook CPU per request (${nCpu} sequential POSTs of each, in turns; bar against the bare route + signature check + one workflow.start)`,
    );
    const bareCpu = () => ownBare.cpuMs();
    const own = await cpuPerRequest(nCpu, {
      bare: { post: () => post(ownBare.url, '/bare'), cpu: bareCpu },
      sig: { post: () => post(ownBare.url, '/bare-sig'), cpu: bareCpu },
      start: { post: () => post(ownBare.url, '/bare-start'), cpu: bareCpu },
      hook: { post: () => post(ownApi.url, WEBHOOK), cpu: () => ownApi.cpuMs() },
    });
    const one = await cpuPerRequest(nCpu, {
      bare: { post: () => inProcess(inBare, '/bare'), cpu: selfCpuMs },
      sig: { post: () => inProcess(inBare, '/bare-sig'), cpu: selfCpuMs },
      start: { post: () => inProcess(inBare, '/bare-start'), cpu: selfCpuMs },
      hook: { post: () => inProcess(inApp, WEBHOOK), cpu: selfCpuMs },
    });
    print(
      `  API in its own process (HTTP, /proc CPU): bare route ${own.bare.toFixed(2)} ms, + signature ${own.sig.toFixed(2)} ms, + workflow.start ${own.start.toFixed(2)} ms`,
    );
    figure(
      G,
      'webhook CPU per request, API in its own process',
      own.hook,
      'ms',
      { name: 'bare route + signature + start', value: own.start },
      { of: 'ratio', op: '<=', limit: 1.5 },
    );
    figure(G, 'webhook CPU per request vs the bare route alone, own process', own.hook, 'ms', {
      name: 'bare route reading the body',
      value: own.bare,
    });
    print(
      `  API in the worker's process (in-process requests): bare route ${one.bare.toFixed(2)} ms, + signature ${one.sig.toFixed(2)} ms, + workflow.start ${one.start.toFixed(2)} ms`,
    );
    // DESIGN §6 bars the webhook with the API in its own process and has this one reported: the process's CPU here
    // also counts the worker beside it (pollers, heartbeats, timers), which no bare route in it pays for.
    figure(
      G,
      "webhook CPU per request, API in the worker's process",
      one.hook,
      'ms',
      { name: 'bare route + signature + start', value: one.start },
      null,
      IN_WORKER_NOTE,
    );
    print('');

    // 3. Webhook ack latency with the whole pipeline running behind it (worker in this process), against a bare
    //    workflow.start loop at the same rate.
    const rate = 8;
    // 200 a side (25 s): with 80 the p99 was the slowest ack or the one before it, so one stall of the shared machine
    // decided the figure (0.68× to 2.22× over six runs of one build, 2026-12-08).
    const nAck = 200;
    const own2 = await causewayApi(c.stack, c.appEnv.TEMPORAL_TASK_QUEUE);
    try {
      // The ack is the webhook's answer; atRate also waits for each reply, so the pipeline drains before the next.
      // A bare workflow.start loop runs beside it at the same rate, so both see the same loaded server.
      const acks = async (base: string) => {
        const latencies: number[] = [];
        const [baseline] = await Promise.all([
          atRate(nAck, rate, () =>
            c.client.workflow.start('noopInboundWorkflow', {
              workflowId: `bench-bare-${randomBytes(8).toString('hex')}`,
              taskQueue: `${c.noopQueue}-unpolled`,
              args: [{}],
            }),
          ),
          atRate(nAck, rate, async () => {
            const from = newCustomer();
            const reply = c.replies.expect(from);
            const t0 = performance.now();
            await post(base, WEBHOOK, from);
            latencies.push(performance.now() - t0);
            await reply;
          }),
        ]);
        return { latencies, baseline };
      };
      // The API process was started just now: its first webhook also opens the Temporal connection and the database
      // pool, reads the tenant and runs cold code (238 ms against a 22 ms p50 in one run), and of 80 acks the p99 was
      // that one, while the bare loop beside it runs on a client warm for minutes. A few webhooks warm it, as the CPU
      // figures' warm-up does; the first one's time is printed on its own.
      const warmUp: number[] = [];
      for (let i = 0; i < 10; i += 1) {
        const from = newCustomer();
        const reply = c.replies.expect(from);
        const t0 = performance.now();
        await post(own2.url, WEBHOOK, from);
        warmUp.push(performance.now() - t0);
        await reply;
      }
      const own = await acks(own2.url);
      const one = await acks(c.apiUrl);
      await quietCallbacks(c.twilio);
      print(
        `Webhook ack latency at ${rate}/s (${nAck} requests; the whole pipeline runs behind each, worker in this process; a bare workflow.start loop from this process at the same rate beside it)`,
      );
      const bare = (r: typeof own) => ({ name: 'bare workflow.start p99', value: quantile(r.baseline, 0.99) });
      figure(
        G,
        'webhook ack p99, API in its own process',
        quantile(own.latencies, 0.99),
        'ms',
        bare(own),
        { of: 'ratio', op: '<=', limit: 2 },
        `p50 ${quantile(own.latencies, 0.5).toFixed(1)} ms vs ${quantile(own.baseline, 0.5).toFixed(1)} ms; the new process's first webhook ${warmUp[0]!.toFixed(0)} ms (not counted)`,
      );
      figure(
        G,
        "webhook ack p99, API in the worker's process",
        quantile(one.latencies, 0.99),
        'ms',
        bare(one),
        null,
        `p50 ${quantile(one.latencies, 0.5).toFixed(1)} ms vs ${quantile(one.baseline, 0.5).toFixed(1)} ms; ${IN_WORKER_NOTE}`,
      );
      print('');
    } finally {
      await own2.stop();
    }
  } finally {
    await Promise.all([ownApi.stop(), ownBare.stop()]);
  }
}

/** DESIGN §6: the webhook's bars hold with the API in its own process; in the worker's process they are reported. */
const IN_WORKER_NOTE = 'reported, not barred (DESIGN §6 bars the API in its own process)';

/** The events of a history's last signal-started turn (from its last WorkflowExecutionSignaled on). */
function countLastTurn(events: Events): number {
  const i = events.map((e) => e.eventType).lastIndexOf(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  return i < 0 ? events.length : events.length - i;
}

/** One event as a line: its type and what it names (activity, marker, signal, search attribute, update). */
function describeEvent(e: proto.temporal.api.history.v1.IHistoryEvent): string {
  const type = EventType[e.eventType ?? 0]?.replace('EVENT_TYPE_', '') ?? String(e.eventType);
  const marker = e.markerRecordedEventAttributes;
  let what = '';
  if (marker?.markerName === 'core_local_activity') {
    const data = marker.details?.data?.payloads?.[0]?.data;
    what = data ? String((JSON.parse(Buffer.from(data).toString()) as { activity_type?: string }).activity_type) : '';
  } else if (marker?.markerName === 'core_patch') {
    const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
    what = `patch ${data ? (JSON.parse(Buffer.from(data).toString()) as { id?: string }).id : ''}`;
  } else if (e.activityTaskScheduledEventAttributes)
    what = e.activityTaskScheduledEventAttributes.activityType?.name ?? '';
  else if (e.workflowExecutionSignaledEventAttributes)
    what = e.workflowExecutionSignaledEventAttributes.signalName ?? '';
  else if (e.upsertWorkflowSearchAttributesEventAttributes)
    what = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {}).join(',');
  else if (e.timerStartedEventAttributes)
    what = `${Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds ?? 0)} s`;
  return what ? `${type} ${what}` : type;
}

/**
 * `npm run bench -- counts`: only the four count figures (statements and events per message, new and existing
 * conversation), with every statement and event of one message listed: counts are deterministic, so this runs on a
 * loaded machine too, in a fraction of the inbound group's time.
 */
export async function benchCounts(c: InboundContext, print: (line: string) => void, n = 10) {
  await causewayPass(c, Array.from({ length: 3 }, newCustomer), false);
  const customers = Array.from({ length: n }, newCustomer);
  const known = new Map<string, { id: string; events: number }>();
  const listed = async (existing: boolean) => {
    c.logStatements?.(true);
    const pass = await causewayPass(c, customers, existing, known);
    return { pass, log: c.logStatements?.(false) ?? null };
  };
  const fresh = await listed(false);
  const again = await listed(true);
  for (const [label, { pass, log }] of [
    ['new conversation', fresh],
    ['existing conversation', again],
  ] as const) {
    print(`One message, ${label}: statements per message (average of ${n}), first 110 characters`);
    for (const [query, count] of [...(log ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]))
      print(`  ${(count / n).toFixed(1).padStart(4)}  ${query.replace(/\s+/g, ' ').slice(0, 110)}`);
    print(
      `  events of the last message: inbound ${pass.last.inbound.length}, conversation ${pass.last.conversation.length} (ms after the inbound workflow started, as the server stamped them)`,
    );
    const t0 = pass.last.inbound[0] ? at(pass.last.inbound[0]) : at(pass.last.conversation[0]!);
    for (const [name, events] of [
      ['inbound', pass.last.inbound],
      ['conversation', pass.last.conversation],
    ] as const)
      events.forEach((e, i) =>
        print(
          `    ${name} ${String(i + 1).padStart(2)} ${`+${(at(e) - t0).toFixed(0)}`.padStart(6)} ${describeEvent(e)}`,
        ),
      );
    printStages(print, label, pass);
  }
  countFigures('counts', fresh.pass, again.pass);
  // Where a reply's time goes next to the no-op pipeline of the same hops: the same listing for its last message.
  const noopCustomers = Array.from({ length: 3 }, newCustomer);
  for (const [label, shape] of [
    ['new conversation', fresh.pass.shape],
    ['existing conversation', again.pass.shape],
  ] as const) {
    await noopPass(c, shape, noopCustomers);
    const events = await historyOf(c.client, noopConversationId(noopCustomers.at(-1)!));
    const last = events.slice(label === 'new conversation' ? 0 : -Math.max(1, countLastTurn(events)));
    print(`No-op pipeline, ${label} (${describeShape(shape)}): its conversation's last turn, ms after its first event`);
    last.forEach((e, i) =>
      print(
        `    noop ${String(i + 1).padStart(2)} ${`+${(at(e) - at(last[0]!)).toFixed(0)}`.padStart(6)} ${describeEvent(e)}`,
      ),
    );
  }
}
