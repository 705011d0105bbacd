import type { TraceContext } from './common';

// How a trace context is made (seed 001, T1), defined once for both sides: src/domain/trace.ts draws the ids from
// node:crypto, workflow code (src/workflows/interceptors.ts) from the workflow's deterministic uuid4(). Ids have
// the W3C trace-context sizes (32 and 16 hex digits), so they export to OpenTelemetry unchanged.

/** Where the ids come from. */
export interface TraceIds {
  traceId(): string;
  spanId(): string;
}

/** A new trace: an entry point, optionally caused by another trace (a reply to a campaign message, T3). */
export function rootTrace(ids: TraceIds, causalTraceId: string | null = null): TraceContext {
  return { traceId: ids.traceId(), spanId: ids.spanId(), parentId: null, causalTraceId };
}

/** A span under `parent`, in its trace. */
export function childTrace(ids: TraceIds, parent: TraceContext): TraceContext {
  return {
    traceId: parent.traceId,
    spanId: ids.spanId(),
    parentId: parent.spanId,
    causalTraceId: parent.causalTraceId ?? null,
  };
}
