/**
 * What kind of database failure an error is, for the places that must choose between "retry / fall back" and
 * "this request is wrong": the webhook (stale-if-error tenant cache, status callbacks handed to Temporal), the
 * inbox drain and activities that end on a data error instead of retrying forever.
 */

/** Node socket errors: the server is not there, or the connection broke on the way. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
/** postgres.js' own connection errors (src/errors.js `connection(...)`). */
const DRIVER_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT']);
/**
 * SQLSTATEs meaning "the server cannot serve you now", with the reason for each (one table, unit-tested per code):
 * - class 08 (connection exception): the connection failed or broke; handled by prefix below.
 * - 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now: a restart or recovery in progress.
 * - 53300 too_many_connections: the server is full now; a later connection gets in.
 * - 57014 query_canceled: a statement timeout or an operator's cancel, not the statement's fault.
 * - 55000 object_not_in_prerequisite_state: at connection time this is "database … is not currently accepting
 *   connections" (ALTER DATABASE … ALLOW_CONNECTIONS false, maintenance, some failovers). As a query error it can
 *   mean a logic error instead, so it counts only when the server reported it as FATAL (see below).
 * - 25006 read_only_sql_transaction: a write reached a read-only standby (a failover promoted another server, or
 *   the pool still points at the old primary): the same write succeeds once the pool reaches the new primary.
 * - 28000 invalid_authorization_specification, 28P01 invalid_password: authentication at connect time failed,
 *   typically right after a password rotation; the data was never looked at, and the rotated secret comes back.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '25006', '28000', '28P01']);
/**
 * A server error with severity FATAL or PANIC ends the session: Postgres reports every connection-phase refusal
 * this way (authentication, "not accepting connections", too many clients, database missing during a failover),
 * and never an error about a statement's data. Whatever its SQLSTATE, it means "not now", not "bad data".
 */
const SESSION_ENDING_SEVERITIES = new Set(['FATAL', 'PANIC']);
/** Concurrency conflicts: the same statement succeeds when retried (55P03: lock_timeout hit on a busy row). */
const CONFLICT_SQLSTATES = new Set(['40001', '40P01', '55P03']);

/** The error chain ended a session at the server (FATAL/PANIC), e.g. a refusal while connecting. */
function endedSession(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { severity, severity_local: local } = e as { severity?: unknown; severity_local?: unknown };
    if (
      (typeof severity === 'string' && SESSION_ENDING_SEVERITIES.has(severity)) ||
      (typeof local === 'string' && SESSION_ENDING_SEVERITIES.has(local))
    )
      return true;
  }
  return false;
}

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  // Drizzle wraps the driver error in DrizzleQueryError (`cause`); follow the chain a few levels.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** The database is unreachable or refusing work right now (connection refused / terminated / timed out). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (endedSession(error)) return true;
  return codesOf(error).some(
    (code) =>
      SOCKET_CODES.has(code) ||
      DRIVER_CODES.has(code) ||
      (code.length === 5 && code.startsWith('08')) ||
      UNAVAILABLE_SQLSTATES.has(code),
  );
}

/** Worth retrying the same statement: unavailable, or a serialization failure / deadlock. Anything else is data. */
export function isTransientDatabaseError(error: unknown): boolean {
  return isDatabaseUnavailable(error) || codesOf(error).some((code) => CONFLICT_SQLSTATES.has(code));
}

/**
 * Any error of the database layer (drizzle's wrapper, a server error, a driver error), codes recognized or not:
 * each of them may carry the statement's parameters in its message or properties.
 */
export function isDatabaseError(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { name, message, query, params } = e as {
      name?: unknown;
      message?: unknown;
      query?: unknown;
      params?: unknown;
    };
    if (name === 'DrizzleQueryError' || name === 'PostgresError') return true;
    if (typeof message === 'string' && message.startsWith('Failed query:')) return true;
    if (typeof query === 'string' && Array.isArray(params)) return true;
  }
  return classifyDbError(error) !== null;
}

/**
 * A log-safe description: the error code only. DrizzleQueryError's message carries the query parameters
 * (phone numbers, message bodies), so database error messages never go into logs or stored errors.
 */
export function describeDatabaseError(error: unknown): string {
  const codes = codesOf(error);
  return codes.length > 0 ? `database error ${codes.join(' ← ')}` : 'database error';
}

export type DbErrorKind = 'retryable' | 'permanent';

export interface ClassifiedDbError {
  kind: DbErrorKind;
  /** SQLSTATE (e.g. 22021) or the driver's connection code (e.g. CONNECTION_CLOSED); never message text. */
  code: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** SQLSTATE classes the same statement will fail on again: 22 data exception, 23 integrity, 42 syntax/access. */
const PERMANENT_CLASSES = new Set(['22', '23', '42']);

/**
 * One classification for every activity (D, G): a failure the database will repeat on every try (bad data, a
 * constraint, bad SQL) must stop retrying and be recorded; a failure of the connection or the server (restart,
 * admin shutdown, out of resources, a lost session) is retried until Postgres is back. null: not a database error.
 */
export function classifyDbError(error: unknown): ClassifiedDbError | null {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (typeof code !== 'string') continue;
    if (name === 'PostgresError' && SQLSTATE.test(code)) {
      // A session-ending refusal (connect phase) or an unavailability code retries whatever its class.
      if (endedSession(e) || UNAVAILABLE_SQLSTATES.has(code)) return { kind: 'retryable', code };
      // Everything else (08 connection, 53 resources, 57P01–03 shutdown, 40 serialization, XX internal) retries.
      return { kind: PERMANENT_CLASSES.has(code.slice(0, 2)) ? 'permanent' : 'retryable', code };
    }
    if (SOCKET_CODES.has(code) || DRIVER_CODES.has(code)) return { kind: 'retryable', code };
  }
  return null;
}
