// Processes of the bench: the `npm start` stack (the dev server on a SQLite file, started by the same function and
// with the same tuning as `npm start`, then Causeway's worker and API as its supervisor runs them: `worker.ts` and
// `src/api/server.ts` in processes of their own), and the no-op pipeline's processes beside it (bench/peer.ts).
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childProcessEnv } from '../src/config/env';
import { workerNodeOptionsFor } from '../src/config/worker-heap';
import { createTemporalClient, ensureSearchAttributes } from '../src/temporal/connection';
import { startDevServer, type DevServerTuning } from '../src/local/temporal-dev-server';
import { freePortBlock } from '../test/support/ports';
import type { PeerConfig } from './peer';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface Child {
  pid: number;
  url: string;
  /** User + system CPU time of the process so far, in ms (/proc/<pid>/stat; 10 ms resolution). */
  cpuMs(): number;
  stop(): Promise<void>;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU time so far of every process whose name is `comm` (e.g. all of Postgres's backends), in ms. */
export function processesCpuMs(comm: string): number {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) total += processCpuMs(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

/** fork() an entry (run by tsx, as the supervisor runs the worker and API) and wait for its `ready` message. */
export async function forkChild(
  name: string,
  entry: string,
  args: string[],
  env: Record<string, string>,
  url = '',
): Promise<Child> {
  const child: ChildProcess = fork(entry, args, {
    cwd: ROOT,
    env: childProcessEnv(env),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Node refuses --cpu-prof in NODE_OPTIONS: it goes on the command line, after tsx's loader flags.
    execArgv: [...process.execArgv, ...cpuProfileFlags(name)],
  });
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url?: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`)));
    child.on('message', (m: { type?: string; url?: string }) => {
      if (m?.type === 'ready') resolve(m);
    });
  });
  return {
    pid: child.pid!,
    url: ready.url || url,
    cpuMs: () => processCpuMs(child.pid!),
    stop: async () => {
      if (child.exitCode === null) {
        if (child.connected) child.disconnect();
        child.kill('SIGTERM');
      }
      await exited;
    },
  };
}

export interface StackConfig {
  temporalAddress: string;
  namespace: string;
  databaseUrl: string;
  publicBaseUrl: string;
  twilioUrl: string;
  openaiUrl: string;
  payloadKeys: string;
  secretsKeys: string;
  authToken: string;
}

/**
 * Causeway's worker (`worker.ts`) in a process of its own, on `taskQueue` (`extra`: more of its environment), with
 * the V8 heap limit its supervisor gives it (src/config/worker-heap.ts; NODE_OPTIONS's own `--max-old-space-size` wins).
 */
export function causewayWorker(c: StackConfig, taskQueue: string, extra: Record<string, string> = {}) {
  return forkChild('worker', path.join(ROOT, 'worker.ts'), [], {
    ...causewayEnv(c, taskQueue),
    WORKER_METRICS_PORT: '0',
    ...extra,
    NODE_OPTIONS: workerNodeOptionsFor(childProcessEnv(extra)),
  });
}

let cpuProfileDir: string | null = null;

/**
 * `npm run bench -- throughput --cpu-profile /tmp/prof`: every process the bench forks (Causeway's worker and API, the
 * no-op pipelines' peers) writes V8 CPU profiles (one a thread, the workflow thread included) into a folder of its
 * name under that one when it exits, to say where a miss's time goes
 * (`npx tsx bench/cpu-profile.ts FILE` summarises one). Off by default: profiling costs CPU of its own.
 */
export function profileChildrenInto(dir: string | null) {
  cpuProfileDir = dir;
}

function cpuProfileFlags(name: string): string[] {
  return cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(cpuProfileDir, name)}`] : [];
}

/** Causeway's API (`src/api/server.ts`) in a process of its own, starting inbound workflows on `taskQueue`. */
export async function causewayApi(c: StackConfig, taskQueue: string, extra: Record<string, string> = {}) {
  const port = await freePortBlock(1);
  return forkChild(
    'api',
    path.join(ROOT, 'src/api/server.ts'),
    [],
    { ...causewayEnv(c, taskQueue), ...extra, PORT: String(port) },
    `http://127.0.0.1:${port}`,
  );
}

function causewayEnv(c: StackConfig, taskQueue: string): Record<string, string> {
  return {
    DATABASE_URL: c.databaseUrl,
    CAUSEWAY_EMBEDDED_DATABASE: '0',
    TEMPORAL_ADDRESS: c.temporalAddress,
    TEMPORAL_NAMESPACE: c.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PUBLIC_BASE_URL: c.publicBaseUrl,
    TWILIO_API_BASE_URL: c.twilioUrl,
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: c.openaiUrl,
    MESSAGE_DEBOUNCE: '0s',
    LOG_LEVEL: 'silent',
    CAUSEWAY_PAYLOAD_KEYS: c.payloadKeys,
    CAUSEWAY_SECRETS_KEYS: c.secretsKeys,
  };
}

/** The no-op pipeline's worker or webhook (bench/peer.ts) in a process of its own. */
export function noopProcess(c: StackConfig, taskQueue: string, role: 'worker' | 'api' | 'both') {
  const config: PeerConfig = {
    temporalAddress: c.temporalAddress,
    namespace: c.namespace,
    taskQueue,
    payloadKeys: c.payloadKeys,
    twilioUrl: c.twilioUrl,
    authToken: c.authToken,
    publicBaseUrl: c.publicBaseUrl,
    worker: role !== 'api',
    api: role !== 'worker',
  };
  return forkChild(`no-op ${role}`, path.join(import.meta.dirname, 'peer.ts'), [JSON.stringify(config)], {});
}

/** A dev server on a fresh SQLite file, started as `npm start` starts it (tuning: DEV_SERVER_TUNING unless given). */
export async function fileDevServer(options: { cliPath: string; namespace: string; tuning?: DevServerTuning }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-dev-'));
  const port = await freePortBlock(1);
  const server = await startDevServer({
    cliPath: options.cliPath,
    dataDir,
    port,
    uiPort: 0,
    headless: true,
    namespace: options.namespace,
    ...(options.tuning ? { tuning: options.tuning } : {}),
  });
  const temporal = createTemporalClient({ address: server.address, namespace: options.namespace, payloadKeys: null });
  await ensureSearchAttributes(temporal.connection, options.namespace);
  await temporal.close();
  return {
    address: server.address,
    pid: server.pid,
    /** The server's SQLite file (beside it, in WAL mode, `<file>-wal`). */
    sqliteFile: path.join(dataDir, 'temporal.sqlite'),
    stop: async () => {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
