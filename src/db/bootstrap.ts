import { randomBytes } from 'node:crypto';
import type { Env } from '../config/env';
import { parseAddress } from '../domain/address';
import type { Logger } from '../logger';
import type { Database } from './client';
import { tenants } from './schema';
import { createTenant } from './tenants';

/** The demo tenant's number: Twilio's magic test number, never a real subscriber. */
export const DEMO_NUMBER = '+15005550006';

/**
 * First start only (no tenant yet): with TWILIO_* set, one live tenant owning that number; without them, a
 * simulated demo tenant so `causeway simulate` works offline. Nothing happens once any tenant exists.
 */
export async function bootstrapTenant(db: Database, env: Env, log: Logger): Promise<void> {
  const existing = await db.select({ id: tenants.id }).from(tenants).limit(1);
  if (existing.length > 0) return;
  if (env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.TWILIO_PHONE_NUMBER) {
    const number = parseAddress(env.TWILIO_PHONE_NUMBER);
    if (!number) throw new Error('TWILIO_PHONE_NUMBER must be E.164 (+15551234567) or whatsapp:+15551234567');
    await createTenant(db, { slug: 'default', name: 'Default tenant', accountSid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN, mode: 'live', numbers: [number] });
    log.info({ tenant: 'default', channel: number.channel }, 'bootstrapped tenant "default" from TWILIO_* (owns TWILIO_PHONE_NUMBER)');
    return;
  }
  await createTenant(db, {
    slug: 'demo', name: 'Demo (simulated Twilio)', accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex'),
    mode: 'simulated', numbers: [{ channel: 'whatsapp', phone: DEMO_NUMBER }, { channel: 'sms', phone: DEMO_NUMBER }],
  });
  log.info({ tenant: 'demo' }, 'bootstrapped tenant "demo" with a simulated Twilio account: outbound messages are recorded as simulated, nothing is sent');
}
