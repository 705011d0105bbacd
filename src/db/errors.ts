/**
 * One classification of database errors for every activity (D, G). A failure the database will repeat on every
 * try (bad data, a constraint, bad SQL) must stop retrying and be recorded; a failure of the connection or the
 * server (restart, admin shutdown, out of resources, a lost session) must be retried until Postgres is back.
 */
export type DbErrorKind = 'retryable' | 'permanent';

export interface ClassifiedDbError {
  kind: DbErrorKind;
  /** SQLSTATE (e.g. 22021) or the driver's connection code (e.g. CONNECTION_CLOSED); never message text. */
  code: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** postgres.js connection codes and the Node socket errors it passes through. */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);
/** SQLSTATE classes the same statement will fail on again: 22 data exception, 23 integrity, 42 syntax/access. */
const PERMANENT_CLASSES = new Set(['22', '23', '42']);

function codeOf(error: unknown): { code: string; postgres: boolean } | null {
  if (!error || typeof error !== 'object') return null;
  const e = error as { name?: unknown; code?: unknown };
  if (typeof e.code !== 'string') return null;
  if (e.name === 'PostgresError' && SQLSTATE.test(e.code)) return { code: e.code, postgres: true };
  if (CONNECTION_CODES.has(e.code)) return { code: e.code, postgres: false };
  return null;
}

/** null when the error (or its cause chain: drizzle wraps driver errors) is not a database error. */
export function classifyDbError(error: unknown): ClassifiedDbError | null {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const found = codeOf(e);
    if (!found) continue;
    if (!found.postgres) return { kind: 'retryable', code: found.code };
    // Everything else (08 connection, 53 resources, 57P01–03 shutdown, 40 serialization, XX internal) retries.
    return { kind: PERMANENT_CLASSES.has(found.code.slice(0, 2)) ? 'permanent' : 'retryable', code: found.code };
  }
  return null;
}
