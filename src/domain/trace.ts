import { randomBytes } from 'node:crypto';
import { childTrace, rootTrace, type TraceIds } from '../contract/trace';
import type { TraceContext } from '../contract/types';

// Issue 25 A: each randomBytes() call is a trip into OpenSSL (about 4 per webhook: the request's trace, the
// inbound's, the start's span); ids are cut from a pooled block instead, each byte used once, as randomUUID does.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = POOL_BYTES;
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

export const newSpanId = () => randomHex(8);
const ids: TraceIds = { traceId: () => randomHex(16), spanId: newSpanId };

export const newRootTrace = (causalTraceId: string | null = null): TraceContext => rootTrace(ids, causalTraceId);
export const childSpan = (parent: TraceContext): TraceContext => childTrace(ids, parent);
