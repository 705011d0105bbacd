import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export interface TemporalRuntimeOptions {
  /**
   * `host:port` where the SDK's core serves its own metrics (temporal_* series: polls, task latencies, slots,
   * sticky cache, requests) in Prometheus format; the worker's /metrics reads it from there. Unset: no SDK metrics.
   */
  metricsBindAddress?: string;
}

/** Routes the Temporal SDK's own logs (worker, workflow `log`, bundler) into pino. Call once, before any worker. */
export function installTemporalRuntime(
  log: Logger,
  level: LogLevel = 'WARN',
  options: TemporalRuntimeOptions = {},
): void {
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const { sdkComponent, ...meta } = entry.meta ?? {};
      log[LEVELS[entry.level]]({ sdk: sdkComponent, ...meta }, entry.message);
    }),
    ...(options.metricsBindAddress
      ? {
          telemetryOptions: {
            // Counters with _total and durations in seconds: the Prometheus conventions our own series follow too.
            metrics: {
              prometheus: {
                bindAddress: options.metricsBindAddress,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
              },
            },
          },
        }
      : {}),
  });
}
