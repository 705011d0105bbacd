/** gRPC codes meaning "Temporal could not take the call now" (not "the call is wrong"). */
// CANCELLED 1, DEADLINE_EXCEEDED 4, RESOURCE_EXHAUSTED 8, ABORTED 10, UNAVAILABLE 14 (grpc status codes).
const UNAVAILABLE_CODES = new Set<number>([1, 4, 8, 10, 14]);

/**
 * Temporal is down, unreachable or overloaded (the client's ServiceError wraps the gRPC error in `cause`). The
 * inbox drain stops its batch at such an error, and moves past a row whose start failed for any other reason.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number' && UNAVAILABLE_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
