import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { ALL_SEARCH_ATTRIBUTES } from '../../contract/search-attributes';
import { ensureSearchAttributes } from '../../temporal/connection';

/** A long-running binary of the cluster (Temporal server, Web UI server) with its output in a log file. */
export interface ManagedProcess {
  name: string;
  pid: number | undefined;
  /** Resolves with the exit code when the process ends, whoever ended it. */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs: number): Promise<void>;
}

export function startProcess(name: string, file: string, args: string[], logPath: string): ManagedProcess {
  const log = fs.openSync(logPath, 'a');
  // Its own process group: a terminal's Ctrl-C reaches only `npm run cluster`, which stops the parts in order
  // (APIs, workers, then Temporal), so draining workers still have a server to report to.
  const child: ChildProcess = spawn(file, args, { stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  let exitCode: number | null = null;
  const exited = new Promise<number>((resolve) => {
    child.once('error', () => {
      exitCode = -1;
      resolve(-1);
    });
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 : -1);
      resolve(exitCode);
    });
  });
  return {
    name,
    pid: child.pid,
    exited,
    async stop(graceMs: number) {
      if (exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last lines of a log file, for an error message when a binary exits at start. */
export function logTail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Fails with the port when something already listens there (a second cluster, a dev server, an old run). */
export async function assertPortsFree(ports: { port: number; host: string }[]): Promise<void> {
  for (const { port, host } of ports) {
    await new Promise<void>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `port ${port} on ${host} is in use (${error.code}): stop what listens there, or move the cluster with TEMPORAL_ADDRESS / PORT / TEMPORAL_UI_PORT`,
          ),
        ),
      );
      server.listen(port, host, () => server.close(() => resolve()));
    });
  }
}

/** Retries `attempt` until it returns a value (a readiness probe every 250 ms, not a synchronization sleep). */
async function until<T>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T | undefined>,
  abort?: Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  const state: { aborted: string | null } = { aborted: null };
  void abort?.then((reason) => {
    state.aborted = reason;
  });
  for (;;) {
    if (state.aborted !== null) throw new Error(`${what}: gave up (${state.aborted})`);
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not ready within ${Math.round(timeoutMs / 1000)} s${last ? ` (${(last as Error).message})` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const GRPC_ALREADY_EXISTS = 6;

/**
 * Waits for the frontend to serve, then makes the namespace usable for Causeway: registered (retention
 * `retentionDays`), visible to the frontend's namespace cache, with the custom search attributes registered and
 * accepted in a visibility query. Only then may anything start a workflow that sets them.
 */
export async function prepareNamespace(options: {
  address: string;
  namespace: string;
  retentionDays: number;
  serverExited: Promise<number>;
  progress: (line: string) => void;
}): Promise<void> {
  const { address, namespace, progress } = options;
  const exited = options.serverExited.then((code) => `the Temporal server exited with ${code}`);
  const connection = await until(
    'Temporal frontend',
    120_000,
    async () => {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        const health = await c.healthService.check({});
        if (health.status === proto.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING) return c;
      } catch (error) {
        await c.close();
        throw error;
      }
      await c.close();
      return undefined;
    },
    exited,
  );
  try {
    progress(`temporal: frontend serving at ${address}`);
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${options.retentionDays} days`),
      });
      progress(`temporal: namespace ${namespace} registered (retention ${options.retentionDays} days)`);
    } catch (error) {
      if ((error as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw error;
    }
    // Search attributes are stored on the namespace record with SQL visibility: registering them needs the
    // namespace in the frontend's cache, and using them needs the cache refreshed again (every 2 s here).
    await until(
      `search attributes on ${namespace}`,
      60_000,
      async () => {
        await ensureSearchAttributes(connection, namespace);
        return true;
      },
      exited,
    );
    const probe = ALL_SEARCH_ATTRIBUTES.map((key) => `${key.name} = 'probe'`).join(' AND ');
    await until(
      `search attributes usable on ${namespace}`,
      60_000,
      async () => {
        await connection.workflowService.countWorkflowExecutions({ namespace, query: probe });
        return true;
      },
      exited,
    );
    progress(
      `temporal: search attributes ready on ${namespace} (${ALL_SEARCH_ATTRIBUTES.map((k) => k.name).join(', ')})`,
    );
  } finally {
    await connection.close();
  }
}

/** Where the cluster keeps its generated config and the binaries' logs. */
export const clusterDir = (dataDir: string) => path.join(dataDir, 'cluster');
