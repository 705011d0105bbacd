import { describe, expect, it } from 'vitest';
import { createStaleIfErrorCache } from '../../src/api/tenant-cache';
import {
  classifyDbError,
  describeDatabaseError,
  isDatabaseUnavailable,
  isTransientDatabaseError,
} from '../../src/db/core/errors';
import { isTemporalUnavailable } from '../../src/temporal/errors';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
// Drizzle wraps the driver error; its own message carries the query parameters.
const wrapped = (cause: Error) =>
  Object.assign(new Error('Failed query: insert …\nparams: +5511999990000,Olá'), { cause });

describe('database error classification', () => {
  it('tells "unavailable" from a data error, through Drizzle’s wrapper', () => {
    for (const code of [
      'ECONNREFUSED',
      'ECONNRESET',
      'CONNECTION_CLOSED',
      'CONNECTION_DESTROYED',
      'CONNECT_TIMEOUT',
      '08006',
      '57P01',
      '53300',
    ]) {
      expect(isDatabaseUnavailable(wrapped(withCode(code))), code).toBe(true);
    }
    for (const code of ['23505', '22021', '42P01', '23503'])
      expect(isDatabaseUnavailable(wrapped(withCode(code))), code).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isTransientDatabaseError(wrapped(withCode('40P01')))).toBe(true);
    expect(isTransientDatabaseError(wrapped(withCode('22021')))).toBe(false);
  });

  // What postgres.js raises, field for field (checked against PostgreSQL 15+: the routine names are the server's).
  const pgError = (code: string, severity: 'FATAL' | 'ERROR', routine = 'x') =>
    Object.assign(new Error('server message'), {
      name: 'PostgresError',
      code,
      severity,
      severity_local: severity,
      routine,
    });

  it.each([
    ['55000', 'FATAL', 'CheckMyDatabase', 'database not accepting connections (ALLOW_CONNECTIONS false)'],
    ['28000', 'FATAL', 'InitializeSessionUserId', 'role may not log in (rotation / NOLOGIN)'],
    ['28P01', 'FATAL', 'auth_failed', 'password rejected after a rotation'],
    ['3D000', 'FATAL', 'InitPostgres', 'database missing during a failover'],
    ['53300', 'FATAL', 'InitProcess', 'too many connections'],
    ['57P01', 'FATAL', 'ProcessInterrupts', 'admin shutdown / terminated session'],
    ['57P03', 'FATAL', 'ProcessStartupPacket', 'cannot connect now (recovery)'],
    ['25006', 'ERROR', 'PreventCommandIfReadOnly', 'write on a read-only standby after a failover'],
  ])('%s (%s, %s) is unavailability: %s', (code, severity, routine) => {
    const error = wrapped(pgError(code, severity as 'FATAL' | 'ERROR', routine));
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isTransientDatabaseError(error)).toBe(true);
    expect(classifyDbError(error)).toEqual({ kind: 'retryable', code });
  });

  it.each([
    ['55000', 'a query-level 55000 (e.g. currval before nextval) is about the statement'],
    ['23505', 'unique violation'],
    ['22021', 'bad byte sequence'],
    ['22009', 'invalid time zone displacement'],
    ['42P01', 'undefined table'],
  ])('%s as a statement ERROR is about the data: %s', (code) => {
    const error = wrapped(pgError(code, 'ERROR'));
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(isTransientDatabaseError(error)).toBe(false);
  });

  it('describes an error by its codes only, never by its message', () => {
    const text = describeDatabaseError(wrapped(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')));
    expect(text).toBe('database error ECONNREFUSED');
    expect(text).not.toContain('5511');
  });

  it('Temporal: gRPC UNAVAILABLE / DEADLINE_EXCEEDED under ServiceError count as unavailable, others do not', () => {
    expect(
      isTemporalUnavailable(
        Object.assign(new Error('Failed to start Workflow'), {
          cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }),
        }),
      ),
    ).toBe(true);
    expect(isTemporalUnavailable(Object.assign(new Error('deadline'), { code: 4 }))).toBe(true);
    expect(isTemporalUnavailable(Object.assign(new Error('bad request'), { code: 3 }))).toBe(false);
    expect(isTemporalUnavailable(new Error('no'))).toBe(false);
  });
});

describe('stale-if-error cache', () => {
  it('serves the last value past its TTL only while the database is unavailable', async () => {
    let clock = 0;
    let failWith: Error | null = null;
    let token = 'tok-1';
    const lookup = createStaleIfErrorCache(
      (key: string) => {
        if (failWith) return Promise.reject(failWith);
        return Promise.resolve(key === 'known' ? { token } : null);
      },
      { ttlMs: 1000, maxEntries: 10, now: () => clock },
    );

    expect(await lookup('known')).toEqual({ token: 'tok-1' });
    token = 'tok-2';
    clock = 500;
    expect(await lookup('known')).toEqual({ token: 'tok-1' }); // within the TTL
    clock = 1500;
    failWith = wrapped(withCode('ECONNREFUSED'));
    expect(await lookup('known')).toEqual({ token: 'tok-1' }); // stale, because the database is down
    await expect(lookup('never-seen')).rejects.toBe(failWith); // nothing to serve: the caller answers 503
    failWith = wrapped(withCode('42P01'));
    await expect(lookup('known')).rejects.toBe(failWith); // a data error is not masked
    failWith = null;
    expect(await lookup('known')).toEqual({ token: 'tok-2' }); // back: the rotation applies at once
    expect(await lookup('unknown')).toBeNull();
  });

  it('keeps at most maxEntries values', async () => {
    const loads: string[] = [];
    const lookup = createStaleIfErrorCache(
      (key: string) => {
        loads.push(key);
        return Promise.resolve({ key });
      },
      { ttlMs: 60_000, maxEntries: 2 },
    );
    await lookup('a');
    await lookup('b');
    await lookup('c'); // evicts a
    await lookup('b');
    await lookup('a');
    expect(loads).toEqual(['a', 'b', 'c', 'a']);
  });
});
