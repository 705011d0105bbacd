import { z } from 'zod';
import type { Database } from '../db/core/client';
import { campaignReport, deskReport, type CampaignReportRow, type DeskReportRow } from '../db/conversations/reports';
import type { Operator } from '../db/operators/users';
import { hasRole } from '../domain/api-keys';
import { reportRange, validTimeZone } from '../domain/report-range';
import { ApiError } from './errors';

export const reportQuery = z.object({
  since: z.string().max(40).optional(),
  until: z.string().max(40).optional(),
  department: z.string().trim().min(1).max(40).optional(),
  timeZone: z
    .string()
    .max(60)
    .refine(validTimeZone, { message: 'an IANA time zone, e.g. America/Sao_Paulo' })
    .default('UTC'),
  campaign: z.uuid().optional(),
  format: z.enum(['json', 'csv']).optional(),
});
export type ReportQuery = z.infer<typeof reportQuery>;

export function parseReportQuery(raw: Record<string, string>, now: Date) {
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v.trim() !== ''));
  const parsed = reportQuery.safeParse(present);
  if (!parsed.success)
    throw new ApiError('bad_request', 'invalid query', {
      details: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  try {
    return { ...parsed.data, ...reportRange(parsed.data, now) };
  } catch (error) {
    if (error instanceof RangeError) throw new ApiError('bad_request', error.message);
    throw error;
  }
}

/** Supervisors and admins see every department; an agent's report is their department's. */
function departmentFor(operator: Operator, asked: string | undefined): string | undefined {
  if (hasRole(operator.role, 'SUPERVISOR')) return asked;
  if (asked && asked !== operator.department) throw new ApiError('forbidden', 'an agent sees their own department');
  return operator.department ?? '';
}

export const DESK_COLUMNS: (keyof DeskReportRow)[] = [
  'level',
  'day',
  'department',
  'agentId',
  'agentName',
  'conversations',
  'ended',
  'aiContained',
  'aiContainment',
  'handoffs',
  'handoffRate',
  'firstResponseP50Seconds',
  'firstResponseP90Seconds',
  'resolutionP50Seconds',
  'resolutionP90Seconds',
  'slaBreaches',
  'npsResponses',
  'nps',
];
export const CAMPAIGN_COLUMNS: (keyof CampaignReportRow)[] = [
  'campaignId',
  'name',
  'kind',
  'status',
  'channel',
  'createdAt',
  'targets',
  'contacted',
  'delivered',
  'read',
  'replied',
  'promised',
  'paid',
  'debtCents',
  'promisedCents',
  'paidCents',
];

export async function runDeskReport(db: Database, operator: Operator, q: ReturnType<typeof parseReportQuery>) {
  const department = departmentFor(operator, q.department);
  const rows = await deskReport(db, {
    tenantId: operator.tenantId,
    since: q.since,
    until: q.until,
    department,
    timeZone: q.timeZone,
  });
  return {
    since: q.since.toISOString(),
    until: q.until.toISOString(),
    timeZone: q.timeZone,
    department: department ?? null,
    rows: rows.filter((r) => r.level === 'detail'),
    days: rows.filter((r) => r.level === 'day'),
    totals: rows.find((r) => r.level === 'total') ?? null,
  };
}

export async function runCampaignReport(db: Database, operator: Operator, q: ReturnType<typeof parseReportQuery>) {
  if (!hasRole(operator.role, 'SUPERVISOR')) throw new ApiError('forbidden', 'requires role SUPERVISOR');
  const rows = await campaignReport(db, {
    tenantId: operator.tenantId,
    since: q.since,
    until: q.until,
    campaignId: q.campaign,
  });
  return { since: q.since.toISOString(), until: q.until.toISOString(), campaigns: rows };
}
