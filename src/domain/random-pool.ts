import { randomBytes } from 'node:crypto';

// Issue 25 A: each randomBytes() call is a trip into OpenSSL, and a webhook made six (its request's trace, the
// inbound's, the start's span, the IVs of its two encrypted payloads). These cut the bytes from a pooled block
// instead, as Node's randomUUID() does: the same CSPRNG, each byte handed out once, never reused or overwritten
// (a spent block is dropped, not refilled in place, so a returned view stays as it was).
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = POOL_BYTES;

/** `bytes` fresh random bytes (a read-only view into the pool: copy it before writing into it). */
export function pooledRandomBytes(bytes: number): Buffer {
  if (bytes > POOL_BYTES) return randomBytes(bytes);
  if (used + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const view = pool.subarray(used, used + bytes);
  used += bytes;
  return view;
}

/** `bytes` fresh random bytes as hex (2 × bytes digits). */
export const pooledRandomHex = (bytes: number): string => pooledRandomBytes(bytes).toString('hex');
