import { childTrace, rootTrace, type TraceIds } from '../contract/trace';
import type { TraceContext } from '../contract/types';
import { pooledRandomHex } from './random-pool';

export const newSpanId = () => pooledRandomHex(8);
const ids: TraceIds = { traceId: () => pooledRandomHex(16), spanId: newSpanId };

export const newRootTrace = (causalTraceId: string | null = null): TraceContext => rootTrace(ids, causalTraceId);
export const childSpan = (parent: TraceContext): TraceContext => childTrace(ids, parent);
