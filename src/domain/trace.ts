import { randomBytes } from 'node:crypto';
import { childTrace, rootTrace, type TraceIds } from '../contract/trace';
import type { TraceContext } from '../contract/types';

export const newSpanId = () => randomBytes(8).toString('hex');
const ids: TraceIds = { traceId: () => randomBytes(16).toString('hex'), spanId: newSpanId };

export const newRootTrace = (causalTraceId: string | null = null): TraceContext => rootTrace(ids, causalTraceId);
export const childSpan = (parent: TraceContext): TraceContext => childTrace(ids, parent);
