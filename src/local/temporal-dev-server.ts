import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';

export interface DevServer {
  address: string;
  uiUrl: string;
  /** false when an already-running server on the port was reused. */
  owned: boolean;
  /** The server's process, when this call started it. */
  pid?: number;
  stop(): Promise<void>;
}

async function reachable(address: string, timeoutMs: number): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/**
 * How the embedded dev server is tuned for its job: one node, one SQLite file, a handful of workers on this
 * machine. Each setting was measured with the no-op pipeline (`npm run bench -- devserver`, bench/README.md), before
 * and after, in one run; the figures are in bench/README.md.
 */
export interface DevServerTuning {
  /** `--sqlite-pragma` values; they apply to the file (`npm start`), an in-memory server ignores them. */
  sqlitePragmas: readonly string[];
  /** `--dynamic-config-value KEY=JSON` pairs. */
  dynamicConfig: Readonly<Record<string, string | number | boolean>>;
}

export const DEV_SERVER_TUNING: DevServerTuning = {
  sqlitePragmas: [
    // The CLI opens the file with SQLite's defaults: a rollback journal and synchronous=FULL, two fsyncs per
    // commit, and readers blocked by writers. WAL lets the server's readers run beside its one writer and makes a
    // commit one append. synchronous=NORMAL in WAL mode syncs at checkpoints, not at every commit: the file is never
    // corrupted, and an application crash loses nothing; a power cut or OS crash can lose the last commits. That is
    // acceptable for a local single-node server (Causeway's inbox and reconciliation redeliver what Temporal lost);
    // a production cluster runs on Postgres with its own durability (npm run cluster).
    'journal_mode=wal',
    'synchronous=normal',
  ],
  dynamicConfig: {
    // The history service's transfer queue (workflow task → matching, activity → matching, signal-with-start …) is
    // read at most this often per shard (default 20/s; the dev server has one shard). At 20/s an idle server waits
    // up to 50 ms per hop for the next read, most of a hop's cost: a reply crossing 5–6 hops waited ~0.5 s for it.
    // 1000/s removed that wait but each read is a SQLite query, and under load many small reads competed with the
    // one writer (sustained 4.8/s vs 5.8/s at 200/s in the same run). 200/s keeps the wait ≤ 5 ms (p50 208 vs 158 ms
    // at 1000/s, vs 501 ms at 20/s) and batches reads under load.
    'history.transferProcessorMaxPollRPS': 200,
    // An activity scheduled by a workflow task goes back to the worker in the task's completion response when the
    // worker has a free slot, skipping a transfer-queue read and a matching round trip (off by default in server
    // 1.29). On one node with its own workers there is nothing to balance: sequential p50 501 → 256 ms with WAL.
    'system.enableActivityEagerExecution': true,
    // New tasks go to one partition per task queue (default 4): partitions spread a queue over matching nodes; on
    // one node with a few pollers they only make tasks wait in a partition no poller is on until forwarded
    // (sustained 3.7 → 5.7/s with both counts at 1). Read partitions stay at the default 4: a file written before
    // this setting may hold a backlog in partitions 1–3, and a partition that is no longer read strands its tasks.
    'matching.numTaskqueueWritePartitions': 1,
  },
};

/** The tuning as `temporal server start-dev` arguments. */
export function devServerTuningArgs(tuning: DevServerTuning = DEV_SERVER_TUNING): string[] {
  return [
    ...tuning.sqlitePragmas.flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...Object.entries(tuning.dynamicConfig).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${JSON.stringify(value)}`,
    ]),
  ];
}

/**
 * `temporal server start-dev` with SQLite persistence under `dataDir` and the Web UI, for `npm start`.
 * Reuses a server already answering on the port (say, one left running by an earlier start).
 */
export async function startDevServer(options: {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  codecEndpoint?: string;
  /** Default DEV_SERVER_TUNING; the bench passes others to compare (`npm run bench -- devserver`). */
  tuning?: DevServerTuning;
  /** No Web UI (the bench). */
  headless?: boolean;
}): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const uiUrl = `http://localhost:${options.uiPort}`;
  if (await reachable(address, 1000)) return { address, uiUrl, owned: false, stop: () => Promise.resolve() };

  fs.mkdirSync(options.dataDir, { recursive: true });
  const logFile = fs.openSync(path.join(options.dataDir, 'temporal.log'), 'a');
  const child: ChildProcess = spawn(
    options.cliPath,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.port),
      ...(options.headless ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
      '--db-filename',
      path.join(options.dataDir, 'temporal.sqlite'),
      '--namespace',
      options.namespace,
      '--log-level',
      'warn',
      ...devServerTuningArgs(options.tuning),
      // The Web UI asks this endpoint to decode payloads (src/api/routes/codec.ts); the UI must send credentials.
      ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
    ],
    { stdio: ['ignore', logFile, logFile] },
  );
  let exited = null as number | null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });

  const deadline = Date.now() + 60_000;
  while (!(await reachable(address, 1000))) {
    if (exited !== null)
      throw new Error(`temporal dev server exited with ${exited}; see ${path.join(options.dataDir, 'temporal.log')}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error('temporal dev server did not become ready within 60 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 250)); // readiness probe interval, not a synchronization sleep
  }
  return {
    address,
    uiUrl,
    owned: true,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
