import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** Routes the Temporal SDK's own logs (worker, workflow `log`, bundler) into pino. Call once, before any worker. */
export function installTemporalRuntime(log: Logger, level: LogLevel = 'WARN'): void {
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const { sdkComponent, ...meta } = entry.meta ?? {};
      log[LEVELS[entry.level]]({ sdk: sdkComponent, ...meta }, entry.message);
    }),
  });
}
