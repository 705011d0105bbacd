import type { EventInput } from '../db/events/events';

export interface OtlpExporter {
  export(events: EventInput[]): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

type Attribute = {
  key: string;
  value: { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
};

const attribute = (key: string, value: unknown): Attribute | null => {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  if (typeof value === 'number')
    return Number.isInteger(value)
      ? { key, value: { intValue: String(value) } }
      : { key, value: { doubleValue: value } };
  return null;
};

/**
 * Exports each event as an OTLP span (OTLP/HTTP JSON, `POST <endpoint>/v1/traces`) with the event's own trace,
 * span and parent ids, so Jaeger or Tempo draw exactly the tree that `causeway trace` prints. Batched; a failed
 * export is dropped with a warning (telemetry never blocks or fails the work it describes).
 */
export function createOtlpExporter(options: {
  endpoint: string;
  serviceName: string;
  flushMs?: number;
  maxBatch?: number;
  onError?: (error: unknown) => void;
}): OtlpExporter {
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const maxBatch = options.maxBatch ?? 512;
  let buffer: EventInput[] = [];
  let inflight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    void flush();
  }, options.flushMs ?? 1000);
  timer.unref();

  function toSpan(e: EventInput) {
    const at = BigInt((e.occurredAt ?? new Date()).getTime()) * 1_000_000n;
    const attributes = [
      attribute('causeway.event', e.type),
      attribute('causeway.tenant_id', e.tenantId),
      attribute('causeway.contact_id', e.contactId),
      attribute('causeway.conversation_id', e.conversationId),
      attribute('causeway.message_id', e.messageId),
      attribute('causeway.causal_trace_id', e.trace.causalTraceId),
      ...Object.entries(e.payload ?? {}).map(([k, v]) => attribute(`causeway.${k}`, v)),
    ].filter((a): a is Attribute => a !== null);
    return {
      traceId: e.trace.traceId,
      spanId: e.trace.spanId,
      ...(e.trace.parentId ? { parentSpanId: e.trace.parentId } : {}),
      name: e.type,
      kind: 1,
      startTimeUnixNano: at.toString(),
      endTimeUnixNano: at.toString(),
      attributes,
      status: { code: e.level === 'error' ? 2 : 0 },
    };
  }

  function flush(): Promise<void> {
    if (buffer.length === 0) return inflight;
    const batch = buffer;
    buffer = [];
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: options.serviceName } }] },
          scopeSpans: [{ scope: { name: 'causeway.events' }, spans: batch.map(toSpan) }],
        },
      ],
    });
    inflight = inflight.then(async () => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) throw new Error(`OTLP endpoint answered ${res.status}`);
        await res.arrayBuffer();
      } catch (error) {
        options.onError?.(error);
      }
    });
    return inflight;
  }

  return {
    export(events) {
      buffer.push(...events);
      if (buffer.length >= maxBatch) void flush();
    },
    flush,
    async shutdown() {
      clearInterval(timer);
      await flush();
    },
  };
}
