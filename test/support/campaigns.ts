import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { createCampaignFromFile, startCampaign, type CampaignOptions } from '../../src/services/campaigns';
import { setContentTemplate } from '../../src/db/outbound/content-templates';
import { campaigns, campaignTargets } from '../../src/db/schema';
import type { TraceContext } from '../../src/contract';
import { newRootTrace } from '../../src/domain/trace';
import { eventually, randomPhone, type Harness, type TestTenant } from './harness';

export interface TestTarget {
  phone: string;
  name?: string;
  timeZone?: string;
  region?: string;
  debt?: string;
  dueDate?: string;
}

export const targets = (n: number, extra: Partial<TestTarget> = {}): TestTarget[] =>
  Array.from({ length: n }, (_, i) => ({ phone: randomPhone(), name: `Cliente ${i + 1}`, ...extra }));

export function csvOf(rows: TestTarget[]): string {
  const quote = (v: string | undefined) => (v === undefined ? '' : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [
    'phone,name,time_zone,region,debt_amount,due_date',
    ...rows.map((r) => [r.phone, r.name, r.timeZone, r.region, r.debt, r.dueDate].map(quote).join(',')),
  ].join('\n');
}

/** A Content SID for tests (HX + 32 hex), different per purpose. */
export const contentSidFor = (purpose: string) => `HX${createHash('md5').update(purpose).digest('hex')}`;

/**
 * Configures the tenant's WhatsApp Content templates for these purposes (`{{1}}` = the message text), as
 * `causeway template set` does: business-initiated sends to contacts outside the 24 h window go out as these.
 */
export async function useContentTemplates(
  h: Harness,
  tenant: TestTenant,
  purposes: string[],
  variables: Record<string, string> = { 1: 'text' },
) {
  for (const purpose of purposes)
    await setContentTemplate(h.db, {
      tenantId: tenant.tenantId,
      purpose,
      contentSid: contentSidFor(purpose),
      variables,
    });
}

/**
 * Creates a campaign from CSV content (the CLI's path) and starts its workflow; returns the campaign id. A body
 * campaign gets a `broadcast` Content template: its contacts have never written, so WhatsApp needs one.
 */
export async function launchCampaign(
  h: Harness,
  tenant: TestTenant,
  rows: TestTarget[] | string,
  options: Partial<CampaignOptions> = {},
  start = true,
) {
  if (!options.templateKey) await useContentTemplates(h, tenant, ['broadcast']);
  const trace = newRootTrace();
  const created = await createCampaignFromFile(h.db, {
    tenantId: tenant.tenantId,
    createdBy: 'test',
    traceId: trace.traceId,
    options: {
      name: `c-${randomBytes(4).toString('hex')}`,
      body: 'Olá {{name}}, temos um aviso para você.',
      activeHours: 'always',
      ratePerSecond: 50,
      maxAttempts: 1,
      ...options,
    },
    file: { name: 'targets.csv', content: typeof rows === 'string' ? rows : csvOf(rows) },
  });
  if (start) await startTestCampaign(h, tenant, created.campaignId, trace.traceId);
  return { ...created, traceId: trace.traceId };
}

/** Starts a campaign's workflow in the test's task queue: under a new span of `trace` given as an id, or under `trace`. */
export function startTestCampaign(
  h: Harness,
  tenant: TestTenant,
  campaignId: string,
  trace: string | TraceContext,
  name = 'test',
) {
  return startCampaign(h.client, {
    campaignId,
    tenantId: tenant.tenantId,
    tenantSlug: tenant.slug,
    taskQueue: h.env.TEMPORAL_TASK_QUEUE,
    trace: typeof trace === 'string' ? { traceId: trace, spanId: randomBytes(8).toString('hex') } : trace,
    name,
  });
}

export async function campaignRow(h: Harness, campaignId: string) {
  const [row] = await h.db.select().from(campaigns).where(eq(campaigns.id, campaignId));
  return row!;
}

export function waitForStatus(h: Harness, campaignId: string, status: string, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const row = await campaignRow(h, campaignId);
      return row.status === status ? row : null;
    },
    timeoutMs,
    `campaign ${status}`,
  );
}

export async function targetRows(h: Harness, campaignId: string) {
  return h.db
    .select()
    .from(campaignTargets)
    .where(eq(campaignTargets.campaignId, campaignId))
    .orderBy(campaignTargets.line);
}

/**
 * What the customer reads: the body of a free-form message, or the text variable of a test Content template
 * (`useContentTemplates` maps `{{1}}` to the text; Twilio sends no Body with a ContentSid).
 */
export const textOf = (m: {
  body: string;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
}) => (m.contentSid ? (m.contentVariables?.['1'] ?? '') : m.body);

/** Messages the fake Twilio accepted for these phone numbers (any channel). */
export function sentToPhones(h: Harness, phones: Iterable<string>) {
  const set = new Set(phones);
  return h.twilio.sent.filter((m) => set.has(m.to.replace('whatsapp:', '')));
}

/** A campaign (not started: no workflow sends for it) whose one target is claimed for attempt 1, as a batch has it. */
export async function claimedTarget(h: Harness, tenant: TestTenant, options: Partial<CampaignOptions> = {}) {
  const c = await launchCampaign(h, tenant, targets(1), options, false);
  await h.db.update(campaigns).set({ status: 'active' }).where(eq(campaigns.id, c.campaignId));
  const [t] = await h.db
    .update(campaignTargets)
    .set({ state: 'scheduled', outcome: 'queued' })
    .where(eq(campaignTargets.campaignId, c.campaignId))
    .returning();
  return { campaignId: c.campaignId, target: t! };
}
