import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { bumpCounters, foldCounters } from '../../src/db/campaigns/targets';
import { findCampaign, insertCampaign } from '../../src/db/campaigns/campaigns';
import { campaignCounterDeltas, campaigns } from '../../src/db/schema';
import { seedTenant, testDb } from '../support/db';

const handle = testDb();
const { db } = handle;
afterAll(() => handle.close());

async function emptyCampaign() {
  const { tenant, phone } = await seedTenant(db);
  const { campaignId } = await insertCampaign(db, {
    tenantId: tenant.id,
    createdBy: 'test',
    traceId: 'c'.repeat(32),
    targets: [],
    settings: {
      name: `counters-${Date.now()}-${Math.random()}`,
      kind: 'broadcast',
      channel: 'whatsapp',
      sender: `whatsapp:${phone}`,
      templateKey: null,
      body: 'x',
      ratePerSecond: 1,
      maxAttempts: 1,
      attemptSpacingSeconds: 60,
      retryOnNoReply: false,
      activeHours: 'always',
      defaultTimeZone: 'UTC',
      strategy: 'sequential',
      startAt: null,
      endAt: null,
    },
  });
  return { tenantId: tenant.id, campaignId };
}

describe('campaign counters', () => {
  it('concurrent increments and concurrent folds add up exactly; readers see unfolded increments', async () => {
    const { tenantId, campaignId } = await emptyCampaign();
    const bumps = Array.from({ length: 60 }, (_, i) =>
      db.transaction((tx) =>
        bumpCounters(tx, campaignId, { contacted: 1, successful: i % 2, failed: i % 3 === 0 ? 1 : 0 }),
      ),
    );
    const folds = Array.from({ length: 6 }, () => db.transaction((tx) => foldCounters(tx, campaignId)));
    await Promise.all([...bumps, ...folds]);
    // Whatever the folds took, a reader sees every increment.
    expect(await findCampaign(db, tenantId, campaignId)).toMatchObject({
      contactedTargets: 60,
      successfulContacts: 30,
      failedTargets: 20,
    });
    await foldCounters(db, campaignId);
    const [row] = await db.select().from(campaigns).where(eq(campaigns.id, campaignId));
    expect(row).toMatchObject({ contactedTargets: 60, successfulContacts: 30, failedTargets: 20 });
    expect(
      await db.select().from(campaignCounterDeltas).where(eq(campaignCounterDeltas.campaignId, campaignId)),
    ).toHaveLength(0);
  });

  it('promise counters go straight to the campaign row', async () => {
    const { campaignId } = await emptyCampaign();
    await bumpCounters(db, campaignId, { promisesMade: 2, promisesBroken: 1 });
    const [row] = await db.select().from(campaigns).where(eq(campaigns.id, campaignId));
    expect(row).toMatchObject({ promisesMade: 2, promisesBroken: 1 });
  });
});
