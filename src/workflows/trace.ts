import { uuid4 } from '@temporalio/workflow';
import type { TraceContext } from '../contract';

// uuid4() in workflow code is seeded by Temporal, so these ids are the same on every replay.
const hex = () => uuid4().replace(/-/g, '');

/** A timer firing is an entry point of its own (seed 001): it opens a new root trace. */
export function newRootTrace(): TraceContext {
  return { traceId: hex(), spanId: hex().slice(0, 16), parentId: null, causalTraceId: null };
}

export function childOf(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: hex().slice(0, 16), parentId: parent.spanId, causalTraceId: parent.causalTraceId ?? null };
}
