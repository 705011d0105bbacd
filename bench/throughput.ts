// `npm run bench -- throughput` (and `curve`, `devserver`): sustained replies per second on the `npm start` stack
// (the dev server on a SQLite file with npm start's tuning; Causeway's worker and API each in its own process)
// against the no-op pipeline of the first wave's shape and of the chosen shape on the same server, and the curve
// offered rate → p99; `devserver` runs the no-op pipeline on dev servers started with other flag sets.
import { randomBytes } from 'node:crypto';
import { DEV_SERVER_TUNING, type DevServerTuning } from '../src/local/temporal-dev-server';
import {
  closedLoop,
  openLoop,
  pipeline,
  quantile,
  sequential,
  type Pipeline,
  type Replies,
  type Sender,
} from './drive';
import { figure, record } from './figures';
import { Client, Connection } from '@temporalio/client';
import { newConversationHops } from './hops';
import { describeShape, FIRST_WAVE, PRE_25D, type Shape } from './noop/shape';
import {
  causewayApi,
  causewayWorker,
  fileDevServer,
  noopProcess,
  processCpuMs,
  processesCpuMs,
  type Child,
  type StackConfig,
} from './stack';

export interface ThroughputContext {
  cliPath: string;
  /** Everything of the stack's configuration but the server's address. */
  stack: Omit<StackConfig, 'temporalAddress'>;
  sender: Sender;
  replies: Replies;
  /** `--shape`; null: the shape Causeway's own histories show after the warm-up (bench/hops.ts). */
  chosen: Shape | null;
  /** Where the fake Twilio sends status callbacks: an API's address, or null for the bench process's own API. */
  routeCallbacks: (apiUrl: string | null) => void;
}

const LOOP = { concurrency: 16, warmupMs: 2_000, windowMs: 5_000, rounds: 3 };
/** The devserver group's one block per flag set (each on a server of its own: no turns to take). */
const BLOCK = { concurrency: 16, warmupMs: 3_000, windowMs: 15_000 };
const WEBHOOK = '/webhooks/twilio/messages';

/** Causeway's hops on the throughput group's own server and task queue (its warm-up has run). */
async function hopsOnServer(address: string, namespace: string, taskQueue: string): Promise<Shape> {
  const connection = await Connection.connect({ address });
  try {
    return await newConversationHops(new Client({ connection, namespace }), taskQueue);
  } finally {
    await connection.close();
  }
}

async function noopPipeline(c: ThroughputContext, stack: StackConfig) {
  const queue = `bench-noop-${randomBytes(3).toString('hex')}`;
  const children: Child[] = [await noopProcess(stack, queue, 'worker'), await noopProcess(stack, queue, 'api')];
  const api = children[1]!;
  return {
    worker: children[0]!,
    api,
    of: (shape: Shape): Pipeline =>
      pipeline(c.sender, c.replies, api.url, '/noop', { 'x-noop-shape': JSON.stringify(shape) }),
    stop: () => Promise.all(children.map((child) => child.stop())),
  };
}

export async function benchThroughput(
  c: ThroughputContext,
  print: (line: string) => void,
  options: { curve: number[]; curveSeconds: number },
) {
  const G = 'throughput';
  const server = await fileDevServer({ cliPath: c.cliPath, namespace: c.stack.namespace });
  const stack: StackConfig = { ...c.stack, temporalAddress: server.address };
  const queue = `bench-stack-${randomBytes(3).toString('hex')}`;
  const children: Child[] = [];
  try {
    children.push(await causewayWorker(stack, queue));
    const api = await causewayApi(stack, queue);
    children.push(api);
    // Twilio calls the stack's API back, as in production: its CPU per reply counts the `sent` and `delivered`
    // callbacks (the bench process's own API took them before 2026-12-07, and its column showed them as the fakes').
    c.routeCallbacks(api.url);
    const causeway = pipeline(c.sender, c.replies, api.url, WEBHOOK);
    const noop = await noopPipeline(c, stack);
    await sequential(causeway, 10); // warm-up: bundles, caches, connections (the no-op's below)
    const chosenShape = c.chosen ?? (await hopsOnServer(server.address, stack.namespace, queue));
    const pipelines: [string, Pipeline][] = [
      ['Causeway', causeway],
      [`no-op, first wave's shape (${describeShape(FIRST_WAVE)})`, noop.of(FIRST_WAVE)],
      [`no-op, chosen shape (${describeShape(chosenShape)})`, noop.of(chosenShape)],
    ];
    // Reported, not barred: the all-local shape this bar was measured against before issue 25 D made the model
    // call a regular activity (kept so that the change of baseline stays visible beside the figure).
    const former: [string, Pipeline] = [`no-op, former chosen shape (${describeShape(PRE_25D)})`, noop.of(PRE_25D)];
    try {
      for (const [, one] of [...pipelines.slice(1), former]) await sequential(one, 10);
      print(
        `Sustained replies/s on the npm start stack (dev server on a SQLite file, npm start's tuning; worker and API in their own processes; ${LOOP.concurrency} customers at a time, each a new conversation; replies counted over ${LOOP.rounds} windows of ${LOOP.windowMs / 1000} s, the pipelines taking turns)`,
      );
      // Where each pipeline's CPU goes, per reply (issue 25: a miss is named with its profile). The bench process
      // holds the fake Twilio and OpenAI; Postgres is every postgres backend on the machine.
      const all = [...pipelines, former];
      const workers = [children[0]!, noop.worker, noop.worker, noop.worker];
      const apis = [api, noop.api, noop.api, noop.api];
      const cpuNow = (i: number) => {
        const own = process.cpuUsage();
        return {
          worker: workers[i]!.cpuMs(),
          api: apis[i]!.cpuMs(),
          devServer: server.pid ? processCpuMs(server.pid) : 0,
          postgres: processesCpuMs('postgres'),
          bench: (own.user + own.system) / 1000,
        };
      };
      type Cpu = ReturnType<typeof cpuNow>;
      // In turns (2026-12-07): one 15 s block per pipeline, one after the other, read this bar anywhere from 0.44×
      // to 0.80× over eight runs of the same code on this VM, its speed drifting by a fifth between blocks (every
      // pipeline's CPU per reply moved with it). Three rounds of 5 s windows, the order rotated each round, let a
      // drift weigh on all four alike, as the inbound group's passes and the webhook CPU's blocks do.
      const acc = all.map(() => ({
        done: 0,
        total: 0,
        windowMs: 0,
        latencies: [] as number[],
        cpu: { worker: 0, api: 0, devServer: 0, postgres: 0, bench: 0 },
      }));
      for (let round = 0; round < LOOP.rounds; round += 1)
        for (let k = 0; k < all.length; k += 1) {
          const i = (k + round) % all.length;
          const before = cpuNow(i);
          const r = await closedLoop(all[i]![1], LOOP);
          const after = cpuNow(i);
          const a = acc[i]!;
          a.done += r.done;
          a.total += r.total;
          a.windowMs += LOOP.windowMs;
          a.latencies.push(...r.latencies);
          for (const key of Object.keys(after) as (keyof Cpu)[]) a.cpu[key] += after[key] - before[key];
        }
      const sustained = acc.map((a) => ({
        perSecond: a.done / (a.windowMs / 1000),
        p50: quantile(a.latencies, 0.5),
        p99: quantile(a.latencies, 0.99),
      }));
      for (const [i, [name]] of all.entries()) {
        const r = sustained[i]!;
        const a = acc[i]!;
        print(`  ${name}: ${r.perSecond.toFixed(1)}/s (reply p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms)`);
        const per = (k: keyof Cpu) => (a.cpu[k] / a.total).toFixed(1);
        print(
          `    CPU per reply: worker ${per('worker')} ms, API ${per('api')} ms, dev server ${per('devServer')} ms, Postgres ${per('postgres')} ms, bench process (fake Twilio/OpenAI, driver) ${per('bench')} ms`,
        );
      }
      const [mine, first, chosen, formerShape] = sustained as [
        (typeof sustained)[0],
        (typeof sustained)[0],
        (typeof sustained)[0],
        (typeof sustained)[0],
      ];
      figure(
        G,
        'sustained replies/s vs the no-op first-wave shape',
        mine.perSecond,
        '/s',
        { name: 'no-op first wave', value: first.perSecond },
        { of: 'ratio', op: '>=', limit: 1.0 },
      );
      figure(
        G,
        'sustained replies/s vs the no-op chosen shape',
        mine.perSecond,
        '/s',
        { name: 'no-op chosen shape', value: chosen.perSecond },
        { of: 'ratio', op: '>=', limit: 0.7 },
        describeShape(chosenShape),
      );
      figure(
        G,
        'sustained replies/s vs the no-op former chosen shape (all local, before issue 25 D)',
        mine.perSecond,
        '/s',
        { name: 'no-op former chosen shape', value: formerShape.perSecond },
        null,
        describeShape(PRE_25D),
      );

      // The curve: the same offered rates (fractions of Causeway's sustained rate) for the three pipelines.
      const rates = options.curve.map((f) => Math.max(0.5, Math.round(f * mine.perSecond * 2) / 2));
      print(`Offered rate → reply p99 (open loop, ${options.curveSeconds} s per point, new conversations)`);
      print(`  ${'rate/s'.padStart(7)} ${pipelines.map(([name]) => name.split(' (')[0]!.padStart(22)).join(' ')}`);
      for (const rate of rates) {
        const cells: string[] = [];
        for (const [name, one] of pipelines) {
          const r = await openLoop(one, rate, options.curveSeconds);
          cells.push(`${r.p99.toFixed(0).padStart(8)} ms (${r.achieved.toFixed(1)}/s)`.padStart(22));
          record(
            'curve',
            `p99 at ${rate}/s, ${name.split(' (')[0]}`,
            r.p99,
            'ms',
            null,
            null,
            `achieved ${r.achieved.toFixed(1)}/s, p50 ${r.p50.toFixed(0)} ms`,
          );
        }
        print(`  ${String(rate).padStart(7)} ${cells.join(' ')}`);
      }
      print('');
    } finally {
      await noop.stop();
    }
  } finally {
    c.routeCallbacks(null);
    await Promise.all(children.map((child) => child.stop()));
    await server.stop();
  }
}

/** `--dev-flags "…"`: start-dev arguments (--sqlite-pragma / --dynamic-config-value only) as a tuning. */
export function parseDevFlags(text: string): DevServerTuning {
  const words = text.split(/\s+/).filter(Boolean);
  const tuning = { sqlitePragmas: [] as string[], dynamicConfig: {} as Record<string, string | number | boolean> };
  for (let i = 0; i < words.length; i += 2) {
    const [flag, value] = [words[i]!, words[i + 1] ?? ''];
    if (flag === '--sqlite-pragma') tuning.sqlitePragmas.push(value);
    else if (flag === '--dynamic-config-value') {
      const at = value.indexOf('=');
      tuning.dynamicConfig[value.slice(0, at)] = JSON.parse(value.slice(at + 1)) as string | number | boolean;
    } else throw new Error(`--dev-flags: only --sqlite-pragma and --dynamic-config-value, not ${flag}`);
  }
  return tuning;
}

const WAL = ['journal_mode=wal', 'synchronous=normal'];
/** The flag sets `npm run bench -- devserver` compares, each against the CLI's defaults. */
const EAGER = { 'system.enableActivityEagerExecution': true };
const ONE_PARTITION = { 'matching.numTaskqueueReadPartitions': 1, 'matching.numTaskqueueWritePartitions': 1 };
const ONE_WRITE_PARTITION = { 'matching.numTaskqueueWritePartitions': 1 };
export const DEV_SERVER_CANDIDATES: [string, DevServerTuning][] = [
  ['CLI defaults', { sqlitePragmas: [], dynamicConfig: {} }],
  ['WAL + synchronous=normal', { sqlitePragmas: WAL, dynamicConfig: {} }],
  [
    'WAL + transfer poll 1000/s',
    { sqlitePragmas: WAL, dynamicConfig: { 'history.transferProcessorMaxPollRPS': 1000 } },
  ],
  ['WAL + transfer poll 200/s', { sqlitePragmas: WAL, dynamicConfig: { 'history.transferProcessorMaxPollRPS': 200 } }],
  ['WAL + transfer poll 100/s', { sqlitePragmas: WAL, dynamicConfig: { 'history.transferProcessorMaxPollRPS': 100 } }],
  ['WAL + 1 task queue partition', { sqlitePragmas: WAL, dynamicConfig: ONE_PARTITION }],
  ['WAL + eager activities', { sqlitePragmas: WAL, dynamicConfig: EAGER }],
  [
    'WAL + eager + poll 200/s',
    { sqlitePragmas: WAL, dynamicConfig: { ...EAGER, 'history.transferProcessorMaxPollRPS': 200 } },
  ],
  [
    'WAL + eager + poll 1000/s',
    { sqlitePragmas: WAL, dynamicConfig: { ...EAGER, 'history.transferProcessorMaxPollRPS': 1000 } },
  ],
  [
    'WAL + eager + poll 200/s + 1 partition',
    { sqlitePragmas: WAL, dynamicConfig: { ...EAGER, ...ONE_PARTITION, 'history.transferProcessorMaxPollRPS': 200 } },
  ],
  [
    'WAL + eager + poll 200/s + 1 write partition',
    {
      sqlitePragmas: WAL,
      dynamicConfig: { ...EAGER, ...ONE_WRITE_PARTITION, 'history.transferProcessorMaxPollRPS': 200 },
    },
  ],
  ['npm start (DEV_SERVER_TUNING)', DEV_SERVER_TUNING],
];

export async function benchDevServer(
  c: ThroughputContext,
  print: (line: string) => void,
  candidates: [string, DevServerTuning][],
) {
  print(
    `Dev-server flag sets: the no-op pipeline of the first wave's shape on a fresh SQLite file each (worker and webhook in their own processes); sequential p50 of 30 messages, sustained over ${BLOCK.windowMs / 1000} s with ${BLOCK.concurrency} customers at a time`,
  );
  const rows: { name: string; p50: number; perSecond: number }[] = [];
  for (const [name, tuning] of candidates) {
    const server = await fileDevServer({ cliPath: c.cliPath, namespace: c.stack.namespace, tuning });
    try {
      const noop = await noopPipeline(c, { ...c.stack, temporalAddress: server.address });
      try {
        const one = noop.of(FIRST_WAVE);
        await sequential(one, 10);
        const p50 = quantile(await sequential(one, 30), 0.5);
        const { perSecond } = await closedLoop(one, BLOCK);
        rows.push({ name, p50, perSecond });
        const base = rows[0]!;
        const flags =
          [...tuning.sqlitePragmas, ...Object.entries(tuning.dynamicConfig).map(([k, v]) => `${k}=${v}`)].join(' ') ||
          '(none)';
        print(
          `  ${name.padEnd(32)} sustained ${perSecond.toFixed(1).padStart(5)}/s  sequential p50 ${p50.toFixed(0).padStart(4)} ms   ${flags}`,
        );
        record(
          'devserver',
          `sustained msg/s, ${name}`,
          perSecond,
          '/s',
          rows.length > 1 ? { name: base.name, value: base.perSecond } : null,
        );
        record(
          'devserver',
          `sequential p50, ${name}`,
          p50,
          'ms',
          rows.length > 1 ? { name: base.name, value: base.p50 } : null,
        );
      } finally {
        await noop.stop();
      }
    } finally {
      await server.stop();
    }
  }
  print('');
}
