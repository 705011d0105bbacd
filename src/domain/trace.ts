import { randomBytes } from 'node:crypto';
import type { TraceContext } from '../contract/types';

// W3C trace-context sizes, so the same ids can be exported to OpenTelemetry unchanged.
export const newTraceId = () => randomBytes(16).toString('hex');
export const newSpanId = () => randomBytes(8).toString('hex');

export function newRootTrace(causalTraceId: string | null = null): TraceContext {
  return { traceId: newTraceId(), spanId: newSpanId(), parentId: null, causalTraceId };
}

export function childSpan(parent: TraceContext): TraceContext {
  return {
    traceId: parent.traceId,
    spanId: newSpanId(),
    parentId: parent.spanId,
    causalTraceId: parent.causalTraceId ?? null,
  };
}
