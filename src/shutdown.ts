import type { Logger } from './logger';

/**
 * For the processes that own others (`npm start`, `npm run cluster`): on SIGINT/SIGTERM (or a fatal error, through
 * `shutdown(1)`), run the stop steps once, in order, each failure logged and the next still run, then exit.
 */
export function orderedShutdown(
  stops: (() => Promise<unknown>)[],
  log: Logger,
  done: (code: number) => void = () => undefined,
) {
  const state = { stopping: false };
  async function shutdown(code: number) {
    if (state.stopping) return;
    state.stopping = true;
    for (const stop of stops) {
      try {
        await stop();
      } catch (error) {
        log.warn({ err: error }, 'error during shutdown');
      }
    }
    done(code);
    process.exit(code);
  }
  // `on`, not `once`: under `npm run`, Ctrl-C reaches this process twice (from the terminal's process group and
  // relayed by tsx), and a second SIGINT with no handler would kill it mid-shutdown, orphaning what it owns.
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  return {
    shutdown,
    get stopping() {
      return state.stopping;
    },
  };
}
