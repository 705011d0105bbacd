import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Env } from '../../config/env';
import { parsePhoneAddress } from '../../domain/address';
import type { Logger } from '../../logger';
import type { Database } from '../core/client';
import { phoneNumbers, tenants, twilioAccounts } from '../schema';
import { openSecret } from '../../secrets/keyring';
import { createTenant, updateTenant } from './tenants';

/** The demo tenant's number: Twilio's magic test number, never a real subscriber. */
export const DEMO_NUMBER = '+15005550006';
/** The tenant TWILIO_* creates when its account is not registered yet. */
export const TWILIO_ENV_TENANT = 'default';

export type TwilioEnvOutcome =
  | { kind: 'unset' }
  | { kind: 'incomplete'; missing: string[] }
  | { kind: 'created' | 'unchanged' | 'updated'; tenant: string; changes: string[] }
  | { kind: 'ignored'; reason: string };

/**
 * TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN / TWILIO_PHONE_NUMBER, honoured by every entry point (npm start, the
 * standalone API and worker, compose) and on every start, not only the first: the account is registered under the
 * `default` tenant if unknown; if known, its auth token follows the environment and the number is added to its
 * tenant. Idempotent and safe when several processes start at once (a lost race re-reads). What cannot be done (the
 * number belongs to another tenant, the slug is taken) is reported, never silently skipped.
 */
export async function applyTwilioEnv(
  db: Database,
  env: Pick<Env, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_PHONE_NUMBER'>,
): Promise<TwilioEnvOutcome> {
  const given = {
    TWILIO_ACCOUNT_SID: env.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: env.TWILIO_AUTH_TOKEN,
    TWILIO_PHONE_NUMBER: env.TWILIO_PHONE_NUMBER,
  };
  const missing = Object.entries(given)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length === 3) return { kind: 'unset' };
  if (missing.length > 0) return { kind: 'incomplete', missing };
  const number = parsePhoneAddress(env.TWILIO_PHONE_NUMBER!);
  if (!number)
    return { kind: 'ignored', reason: 'TWILIO_PHONE_NUMBER must be E.164 (+15551234567) or whatsapp:+15551234567' };
  for (let attempt = 0; ; attempt++) {
    try {
      return await apply(db, env.TWILIO_ACCOUNT_SID!, env.TWILIO_AUTH_TOKEN!, number);
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
      // Another process registered it at the same moment: the second pass finds it.
      if (code === '23505' && attempt === 0) continue;
      throw error;
    }
  }
}

async function apply(
  db: Database,
  accountSid: string,
  authToken: string,
  number: { channel: 'sms' | 'whatsapp'; phone: string },
): Promise<TwilioEnvOutcome> {
  const [account] = await db
    .select({
      id: twilioAccounts.id,
      tenantId: twilioAccounts.tenantId,
      authToken: twilioAccounts.authToken,
      slug: tenants.slug,
    })
    .from(twilioAccounts)
    .innerJoin(tenants, eq(tenants.id, twilioAccounts.tenantId))
    .where(eq(twilioAccounts.accountSid, accountSid));
  const [owner] = await db
    .select({ tenantId: phoneNumbers.tenantId, slug: tenants.slug })
    .from(phoneNumbers)
    .innerJoin(tenants, eq(tenants.id, phoneNumbers.tenantId))
    .where(and(eq(phoneNumbers.channel, number.channel), eq(phoneNumbers.phone, number.phone)));
  if (!account) {
    if (owner)
      return {
        kind: 'ignored',
        reason: `TWILIO_PHONE_NUMBER already belongs to tenant ${owner.slug} under another Twilio account (causeway tenant update ${owner.slug} --remove-number …)`,
      };
    const [taken] = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, TWILIO_ENV_TENANT));
    // Another process starting at the same moment may have registered this very account after our first read (its
    // tenant committed in between): read again, and the account is found (CI saw `ignored` here).
    if (taken && (await db.$count(twilioAccounts, eq(twilioAccounts.accountSid, accountSid))) > 0)
      return apply(db, accountSid, authToken, number);
    if (taken)
      return {
        kind: 'ignored',
        reason: `tenant "${TWILIO_ENV_TENANT}" exists with another Twilio account: register this one with causeway tenant add`,
      };
    await createTenant(db, {
      slug: TWILIO_ENV_TENANT,
      name: 'Default tenant',
      accountSid,
      authToken,
      mode: 'live',
      numbers: [number],
    });
    return { kind: 'created', tenant: TWILIO_ENV_TENANT, changes: ['account', 'number'] };
  }
  if (owner && owner.tenantId !== account.tenantId)
    return {
      kind: 'ignored',
      reason: `TWILIO_PHONE_NUMBER belongs to tenant ${owner.slug}, not to ${account.slug} which owns TWILIO_ACCOUNT_SID`,
    };
  // Stored tokens are sealed (src/secrets): compare the plain token.
  const tokenChanged = openSecret(account.authToken) !== authToken;
  const changes = [...(tokenChanged ? ['auth token'] : []), ...(!owner ? ['number'] : [])];
  if (changes.length === 0) return { kind: 'unchanged', tenant: account.slug, changes };
  await updateTenant(db, account.slug, {
    accountSid,
    ...(tokenChanged ? { authToken } : {}),
    ...(!owner ? { addNumbers: [number] } : {}),
  });
  return { kind: 'updated', tenant: account.slug, changes };
}

/** Says at start what TWILIO_* did, so a deploy never ignores it without a word. */
export function logTwilioEnv(log: Logger, outcome: TwilioEnvOutcome): void {
  switch (outcome.kind) {
    case 'unset':
      return;
    case 'incomplete':
      return log.warn(
        { missing: outcome.missing },
        'TWILIO_* is partly set and was ignored: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER together',
      );
    case 'ignored':
      return log.warn({ reason: outcome.reason }, 'TWILIO_* was ignored');
    case 'unchanged':
      return log.info({ tenant: outcome.tenant }, 'TWILIO_* matches the registered tenant');
    default:
      return log.info(
        { tenant: outcome.tenant, changes: outcome.changes },
        `TWILIO_* applied to tenant "${outcome.tenant}"`,
      );
  }
}

/**
 * `npm start`: TWILIO_* (as every entry point does); with no tenant at all afterwards, a simulated demo tenant so
 * `causeway simulate` works offline.
 */
export async function bootstrapTenant(db: Database, env: Env, log: Logger): Promise<void> {
  logTwilioEnv(log, await applyTwilioEnv(db, env));
  const existing = await db.select({ id: tenants.id }).from(tenants).limit(1);
  if (existing.length > 0) return;
  await createTenant(db, {
    slug: 'demo',
    name: 'Demo (simulated Twilio)',
    accountSid: `AC${randomBytes(16).toString('hex')}`,
    authToken: randomBytes(16).toString('hex'),
    mode: 'simulated',
    numbers: [
      { channel: 'whatsapp', phone: DEMO_NUMBER },
      { channel: 'sms', phone: DEMO_NUMBER },
    ],
  });
  log.info(
    { tenant: 'demo' },
    'bootstrapped tenant "demo" with a simulated Twilio account: outbound messages are recorded as simulated, nothing is sent',
  );
}
