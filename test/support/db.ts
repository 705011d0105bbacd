import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDb } from '../../src/db/core/client';
import { createTenant } from '../../src/db/tenants/tenants';
import { randomTenantNumber } from './harness';

/** The run's database (real Postgres when reachable), for tests that need no Temporal. */
export function testDb() {
  return createDb(inject('databaseUrl'), { max: 10, embedded: inject('databaseEmbedded') });
}

export async function seedTenant(db: ReturnType<typeof testDb>['db']) {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const phone = randomTenantNumber();
  const slug = `t-${randomBytes(5).toString('hex')}`;
  const { tenant } = await createTenant(db, {
    slug,
    name: slug,
    accountSid,
    authToken: 'tok',
    mode: 'live',
    numbers: [{ channel: 'whatsapp', phone }],
  });
  return { tenant, accountSid, phone, slug };
}
