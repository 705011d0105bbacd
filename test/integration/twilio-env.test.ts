import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { applyTwilioEnv, TWILIO_ENV_TENANT } from '../../src/db/tenants/bootstrap';
import { showTenant } from '../../src/db/tenants/tenants';
import { seedTenant, testDb } from '../support/db';
import { randomPhone } from '../support/harness';

const handle = testDb();
const { db } = handle;
afterAll(() => handle.close());

// The only test that creates the `default` tenant (the database is shared by the run's test files).
describe('TWILIO_* from every entry point (applyTwilioEnv)', () => {
  it('registers the account once, then follows a changed token and number; says why when it cannot', async () => {
    expect(await applyTwilioEnv(db, {})).toEqual({ kind: 'unset' });
    expect(await applyTwilioEnv(db, { TWILIO_ACCOUNT_SID: 'AC' + 'a'.repeat(32) })).toEqual({
      kind: 'incomplete',
      missing: ['TWILIO_AUTH_TOKEN', 'TWILIO_PHONE_NUMBER'],
    });
    expect(
      await applyTwilioEnv(db, {
        TWILIO_ACCOUNT_SID: 'AC' + 'a'.repeat(32),
        TWILIO_AUTH_TOKEN: 'x'.repeat(32),
        TWILIO_PHONE_NUMBER: '5551234',
      }),
    ).toMatchObject({ kind: 'ignored' });

    const env = {
      TWILIO_ACCOUNT_SID: `AC${randomBytes(16).toString('hex')}`,
      TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex'),
      TWILIO_PHONE_NUMBER: `whatsapp:${randomPhone()}`,
    };
    // Two processes starting at once (API and worker under compose): one creates, the other finds it.
    const [a, b] = await Promise.all([applyTwilioEnv(db, env), applyTwilioEnv(db, env)]);
    expect([a.kind, b.kind].sort()).toEqual(['created', 'unchanged']);
    expect(await applyTwilioEnv(db, env)).toEqual({ kind: 'unchanged', tenant: TWILIO_ENV_TENANT, changes: [] });

    const rotated = { ...env, TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex') };
    expect(await applyTwilioEnv(db, rotated)).toEqual({
      kind: 'updated',
      tenant: TWILIO_ENV_TENANT,
      changes: ['auth token'],
    });
    const sms = { ...rotated, TWILIO_PHONE_NUMBER: randomPhone() };
    expect(await applyTwilioEnv(db, sms)).toEqual({ kind: 'updated', tenant: TWILIO_ENV_TENANT, changes: ['number'] });
    const details = await showTenant(db, TWILIO_ENV_TENANT);
    expect(details!.accounts[0]!.numbers).toHaveLength(2);

    // A number another tenant owns is never taken over.
    const other = await seedTenant(db);
    const clash = await applyTwilioEnv(db, { ...rotated, TWILIO_PHONE_NUMBER: `whatsapp:${other.phone}` });
    expect(clash).toMatchObject({ kind: 'ignored' });
    expect((clash as { reason: string }).reason).toContain(other.slug);
    // Another account while `default` exists: reported, not merged into it.
    expect(
      await applyTwilioEnv(db, {
        ...env,
        TWILIO_ACCOUNT_SID: `AC${randomBytes(16).toString('hex')}`,
        TWILIO_PHONE_NUMBER: randomPhone(),
      }),
    ).toMatchObject({ kind: 'ignored' });
  });
});
