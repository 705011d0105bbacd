import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/core/client';
import { issueKey, revokeKey, setTemplate, setUserAccess } from '../../src/services/admin';
import { ServiceError } from '../../src/services/errors';

/*
 * Issue 19 A: the admin verbs' refusals that need no row (a malformed id, one's own account, a bad template). The
 * API answers with these messages; the console and the CLI word them by code (and field). A database that is
 * touched at all fails the test.
 */
const ctx = {
  db: new Proxy({} as Database, {
    get: () => {
      throw new Error('the database was touched');
    },
  }),
};
const tenantId = randomUUID();

async function refused(run: Promise<unknown>) {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceError);
  const { code, message, details } = error as ServiceError;
  return { code, message, details };
}

describe('admin verbs refuse before the database', () => {
  it('a malformed user or key id names nothing', async () => {
    expect(await refused(issueKey(ctx, tenantId, 'nope'))).toMatchObject({
      code: 'not_found',
      message: 'no such user',
    });
    expect(await refused(setUserAccess(ctx, { tenantId, userId: undefined, disabled: true }))).toMatchObject({
      code: 'not_found',
      message: 'no such user',
    });
    // As the API answered before: a malformed key id is "no such key"; an unknown or revoked one (a row) says more.
    expect(await refused(revokeKey(ctx, tenantId, '123'))).toMatchObject({ code: 'not_found', message: 'no such key' });
  });

  it('an admin cannot disable or enable themselves', async () => {
    const me = randomUUID();
    for (const disabled of [true, false])
      expect(await refused(setUserAccess(ctx, { tenantId, userId: me, disabled, by: me }))).toMatchObject({
        code: 'conflict',
        message: 'you cannot disable or enable yourself',
      });
  });

  it('a template is refused by field', async () => {
    const ok = { tenantId, purpose: 'agent_reply', contentSid: `HX${'ab'.repeat(16)}`, variables: '{}' };
    expect(await refused(setTemplate(ctx, { ...ok, purpose: 'Bad Purpose' }))).toEqual({
      code: 'invalid',
      message: 'purpose: 1–64 characters of a-z, 0-9 and _',
      details: { field: 'purpose' },
    });
    expect(await refused(setTemplate(ctx, { ...ok, contentSid: 'HX1' }))).toMatchObject({
      code: 'invalid',
      details: { field: 'contentSid' },
    });
    const variables = await refused(setTemplate(ctx, { ...ok, variables: 'not json' }));
    expect(variables).toMatchObject({ code: 'invalid', details: { field: 'variables' } });
    expect(variables.message).toMatch(/^variables: ./);
  });
});
