import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from './logger';

export interface ChildSpec {
  /** `api` or `worker`: the name in logs. */
  name: string;
  /** The standalone entry point (src/api/server.ts, worker.ts). */
  entry: string;
  /** Variables for this child only, on top of the shared env (`npm run cluster`: each API's PORT). */
  env?: Record<string, string>;
}

export interface SupervisorOptions {
  children: ChildSpec[];
  /** The whole environment of every child. */
  env: Record<string, string | undefined>;
  log: Logger;
  /** First restart delay; it doubles on each crash in a row, up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that ran this long before dying starts again at the first delay. */
  stableAfterMs?: number;
  /** How long a child may take to stop on SIGTERM before it is killed. */
  stopTimeoutMs?: number;
}

interface Slot {
  spec: ChildSpec;
  child: ChildProcess | null;
  startedAt: number;
  crashes: number;
  timer: NodeJS.Timeout | null;
  ready: boolean;
}

/**
 * Runs the API and the worker as child processes and restarts one that dies. They are separate processes, not
 * tasks in this one, because a bug can kill a Node process outright (postgres.js throws from a setImmediate on a
 * dead socket, issue 10): only a parent that survives it can bring the part back. The parent owns the embedded
 * Temporal and Postgres, so a restarted child finds them as they were.
 *
 * Children get their own process group (`detached`), so a terminal's Ctrl-C reaches only this parent, which stops
 * them in order; a child also stops by itself when this parent disappears (src/fatal.ts, stopWithParent).
 */
export function startSupervisor(options: SupervisorOptions) {
  const { log } = options;
  const initialBackoffMs = options.initialBackoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const stableAfterMs = options.stableAfterMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 40_000;
  let stopping = false;
  let resolveReady!: () => void;
  const allReady = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  const slots: Slot[] = options.children.map((spec) => ({
    spec,
    child: null,
    startedAt: 0,
    crashes: 0,
    timer: null,
    ready: false,
  }));

  function launch(slot: Slot) {
    slot.timer = null;
    if (stopping) return;
    const child = fork(slot.spec.entry, [], {
      env: { ...options.env, ...slot.spec.env },
      detached: true,
      stdio: 'inherit',
    });
    slot.child = child;
    slot.startedAt = Date.now();
    log.info({ child: slot.spec.name, childPid: child.pid }, `${slot.spec.name} process started`);
    child.on('message', (message: unknown) => {
      if ((message as { type?: string } | null)?.type !== 'ready') return;
      slot.ready = true;
      if (slots.every((s) => s.ready)) resolveReady();
    });
    child.on('error', (error) =>
      log.error({ child: slot.spec.name, err: error.message }, `${slot.spec.name}: process error`),
    );
    child.once('exit', (code, signal) => {
      slot.child = null;
      if (stopping) return;
      const ranMs = Date.now() - slot.startedAt;
      slot.crashes = ranMs >= stableAfterMs ? 1 : slot.crashes + 1;
      const delay = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (slot.crashes - 1));
      log.error(
        {
          child: slot.spec.name,
          childPid: child.pid,
          code,
          signal,
          ranMs,
          crashesInARow: slot.crashes,
          restartInMs: delay,
        },
        `${slot.spec.name} exited unexpectedly; restarting`,
      );
      slot.timer = setTimeout(() => launch(slot), delay);
    });
  }

  async function stopChild(slot: Slot) {
    if (slot.timer) clearTimeout(slot.timer);
    const child = slot.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      log.warn({ child: slot.spec.name, childPid: child.pid }, `${slot.spec.name} did not stop in time; killing it`);
      child.kill('SIGKILL');
    }, stopTimeoutMs);
    await exited;
    clearTimeout(timer);
    log.info({ child: slot.spec.name }, `${slot.spec.name} stopped`);
  }

  for (const slot of slots) launch(slot);

  return {
    /** Resolves once every child reported ready the first time. */
    ready: allReady,
    /** Current child process ids by name (undefined while one is down). */
    pids(): Record<string, number | undefined> {
      return Object.fromEntries(slots.map((s) => [s.spec.name, s.child?.pid]));
    },
    /** SIGTERM to every child (in reverse start order: the API stops taking webhooks before the worker drains). */
    async stop(): Promise<void> {
      stopping = true;
      for (const slot of [...slots].reverse()) await stopChild(slot);
    },
  };
}
