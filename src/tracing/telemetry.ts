import type { Env } from '../config/env';
import { addEventSink } from '../db/events/events';
import type { Logger } from '../logger';
import { createOtlpExporter } from './otlp-exporter';

/** With OTEL_EXPORTER_OTLP_ENDPOINT set, every event is also exported as a span; returns the shutdown hook. */
export function startTelemetry(
  env: Pick<Env, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
  log: Logger,
): () => Promise<void> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return () => Promise.resolve();
  const exporter = createOtlpExporter({
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: env.OTEL_SERVICE_NAME,
    onError: (error) => log.warn({ err: error }, 'OTLP export failed; spans dropped'),
  });
  const remove = addEventSink((events) => exporter.export(events));
  log.info({ endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting trace events as OTLP spans');
  return async () => {
    remove();
    await exporter.shutdown();
  };
}
