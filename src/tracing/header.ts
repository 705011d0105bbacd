import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { TraceContext } from '../contract/types';

/** The Temporal header that carries the trace context (seed 001) through every workflow, signal and activity. */
const TRACE_HEADER = 'causeway-trace';

export function withTraceHeader(headers: Headers, trace: TraceContext): Headers {
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(trace) };
}

export function traceFromHeaders(headers: Headers | undefined): TraceContext | null {
  const payload = headers?.[TRACE_HEADER];
  if (!payload) return null;
  try {
    const trace = defaultPayloadConverter.fromPayload<TraceContext>(payload);
    return trace && typeof trace.traceId === 'string' && typeof trace.spanId === 'string' ? trace : null;
  } catch {
    return null;
  }
}
