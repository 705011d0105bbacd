import { describeDatabaseError, isDatabaseError } from './domain/database-errors';
import type { Logger } from './logger';

/** An error as a log line can carry it: name, message and stack, with credentials in URLs masked. */
export function describeFatal(error: unknown): { type: string; message: string; stack?: string } {
  // A database error's message lists the statement's parameters: the codes only (src/domain/database-errors.ts).
  if (isDatabaseError(error)) return { type: 'DatabaseError', message: describeDatabaseError(error) };
  const mask = (text: string) => text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi, '$1***:***@');
  if (error instanceof Error)
    return { type: error.name, message: mask(error.message), ...(error.stack ? { stack: mask(error.stack) } : {}) };
  return { type: typeof error, message: mask(String(error)) };
}

/**
 * For the standalone processes: an error nothing caught (a driver bug thrown from a timer, a rejected promise
 * nobody awaited) leaves the process in an unknown state, so it is logged and the process exits 1 for its
 * supervisor (`npm start`, compose, systemd, Kubernetes) to restart it, instead of limping on or exiting 0.
 */
export function exitOnFatalErrors(log: Logger): void {
  const die = (kind: string) => (error: unknown) => {
    try {
      log.fatal({ error: describeFatal(error) }, `${kind}: exiting so the supervisor restarts this process`);
      log.flush?.();
    } finally {
      process.exit(1);
    }
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled promise rejection'));
}

/**
 * A child of `npm start`'s supervisor stops when its parent goes away (the IPC channel closes), so a parent
 * killed with SIGKILL leaves no worker or API behind on the embedded services it owned.
 */
export function stopWithParent(stop: () => void): void {
  if (process.send) process.once('disconnect', stop);
}

/** Tells `npm start`'s supervisor (when it started this process) that this part is up. */
export function reportReady(): void {
  process.send?.({ type: 'ready' });
}
