import { Hono } from 'hono';
import { z } from 'zod';
import { campaignProgress, requireCampaign } from '../../services/campaigns';
import { listCampaigns, targetStateCounts } from '../../db/campaigns/campaigns';
import { recordPayment } from '../../db/campaigns/payment-ledger';
import { parseAddress } from '../../domain/address';
import { authenticate, requireRole } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { readJson } from '../body';

const paymentBody = z
  .object({
    phone: z.string().min(5).max(40),
    /** In the currency's units (150.5) or in cents; exactly one. */
    amount: z.number().positive().max(1e9).optional(),
    amountCents: z.number().int().positive().max(1e11).optional(),
    externalId: z.string().trim().min(1).max(120),
    paidAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine(
    (b) => (b.amount === undefined) !== (b.amountCents === undefined),
    'give exactly one of amount and amountCents',
  );

/** Campaign read API (the CLI's status, for dashboards) and the payments feed promises are checked against (C4). */
export function campaignRoutes(deps: AppDeps) {
  const { db, temporal } = deps;
  return (
    new Hono<AppEnv>()
      .use('/campaigns', authenticate(deps))
      .use('/campaigns/*', authenticate(deps))
      .use('/payments', authenticate(deps))
      .get('/campaigns', async (c) => c.json({ campaigns: await listCampaigns(db, c.get('operator').tenantId) }))
      .get('/campaigns/:id', async (c) => {
        const campaign = await requireCampaign(db, c.get('operator').tenantId, c.req.param('id'));
        const progress = await campaignProgress(temporal, campaign.id).catch(() => null);
        return c.json({ campaign, states: await targetStateCounts(db, campaign.id), progress });
      })
      // The billing system reports a payment (idempotent by its external id); due promises are checked against these.
      .post('/payments', requireRole('SUPERVISOR'), async (c) => {
        const b = await readJson(c, paymentBody);
        const address = parseAddress(b.phone);
        if (!address) throw new ApiError('bad_request', 'phone must be E.164');
        const tenantId = c.get('operator').tenantId;
        const result = await recordPayment(db, {
          tenantId,
          phone: address.phone,
          amountCents: b.amountCents ?? Math.round(b.amount! * 100),
          externalId: b.externalId,
          paidAt: b.paidAt ? new Date(b.paidAt) : new Date(),
        });
        if (result === 'no_contact') throw new ApiError('not_found', 'no such contact');
        return c.json({ recorded: result.recorded }, result.recorded ? 201 : 200);
      })
  );
}
