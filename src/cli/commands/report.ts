import type { Command } from 'commander';
import { campaignReport, deskReport } from '../../db/conversations/reports';
import { reportRange, validTimeZone } from '../../domain/report-range';
import { type CliContext, CliError, withTenant } from '../context';

function rangeOf(o: { since: string; until?: string }) {
  try {
    return reportRange(o, new Date());
  } catch (error) {
    if (error instanceof RangeError) throw new CliError(`--${error.message}`);
    throw error;
  }
}

const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);
const dur = (s: number | null) =>
  s === null
    ? '—'
    : s < 90
      ? `${Math.round(s)}s`
      : s < 5400
        ? `${Math.round(s / 60)}m`
        : `${Math.round(s / 360) / 10}h`;
const money = (cents: number) => (cents / 100).toFixed(2);

/** Issue 20 F: `causeway report desk|campaign` (same figures as GET /api/reports/*; see docs/desk-tools.md). */
export function registerReportCommands(program: Command, ctx: () => CliContext) {
  const report = program.command('report').description('desk and campaign reports (the figures of /console/reports)');

  report
    .command('desk')
    .description('per day, department and agent: conversations, AI containment, handoffs, response times, SLA, NPS')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--since <when>', 'period start: a duration back from now (7d, 24h) or a date', '7d')
    .option('--until <when>', 'period end (default: now)')
    .option('--department <name>', 'only this department')
    .option('--time-zone <zone>', 'the zone days are cut in', 'UTC')
    .option('--json', 'machine-readable output', false)
    .action(
      async (o: {
        tenant?: string;
        since: string;
        until?: string;
        department?: string;
        timeZone: string;
        json: boolean;
      }) => {
        if (!validTimeZone(o.timeZone)) throw new CliError('--time-zone must be an IANA zone, e.g. America/Sao_Paulo');
        const range = rangeOf(o);
        await withTenant(ctx(), o.tenant, async (db, tenant) => {
          const rows = await deskReport(db, {
            tenantId: tenant.id,
            ...range,
            department: o.department,
            timeZone: o.timeZone,
          });
          if (o.json)
            return console.log(
              JSON.stringify(
                {
                  since: range.since.toISOString(),
                  until: range.until.toISOString(),
                  timeZone: o.timeZone,
                  rows: rows.filter((r) => r.level === 'detail'),
                  days: rows.filter((r) => r.level === 'day'),
                  totals: rows.find((r) => r.level === 'total') ?? null,
                },
                null,
                2,
              ),
            );
          if (rows.every((r) => r.level === 'total' && r.conversations === 0))
            return console.log(`tenant ${tenant.slug}: no conversation started in the period`);
          console.table(
            rows
              .filter((r) => r.level !== 'day')
              .map((r) => ({
                day: r.level === 'total' ? 'TOTAL' : r.day,
                department: r.level === 'total' ? '' : (r.department ?? '—'),
                agent: r.level === 'total' ? '' : (r.agentName ?? '—'),
                conversations: r.conversations,
                'AI contained': pct(r.aiContainment),
                handoffs: pct(r.handoffRate),
                'first resp p50/p90': `${dur(r.firstResponseP50Seconds)} / ${dur(r.firstResponseP90Seconds)}`,
                'resolution p50/p90': `${dur(r.resolutionP50Seconds)} / ${dur(r.resolutionP90Seconds)}`,
                'SLA breaches': r.slaBreaches,
                NPS: r.nps === null ? '—' : `${r.nps} (${r.npsResponses})`,
              })),
          );
        });
      },
    );

  report
    .command('campaign')
    .description('per campaign: contacted → delivered → read → replied → promised → paid, with amounts')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--since <when>', 'campaigns created since: a duration back from now (7d) or a date', '30d')
    .option('--until <when>', 'period end (default: now)')
    .option('--campaign <id>', 'only this campaign')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; since: string; until?: string; campaign?: string; json: boolean }) => {
      if (o.campaign && !/^[0-9a-f-]{36}$/i.test(o.campaign)) throw new CliError('--campaign must be a campaign id');
      const range = rangeOf(o);
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const rows = await campaignReport(db, { tenantId: tenant.id, ...range, campaignId: o.campaign });
        if (o.json)
          return console.log(
            JSON.stringify(
              { since: range.since.toISOString(), until: range.until.toISOString(), campaigns: rows },
              null,
              2,
            ),
          );
        if (rows.length === 0) return console.log(`tenant ${tenant.slug}: no campaign created in the period`);
        console.table(
          rows.map((r) => ({
            campaign: r.name,
            status: r.status,
            targets: r.targets,
            contacted: r.contacted,
            delivered: r.delivered,
            read: r.read,
            replied: r.replied,
            promised: `${r.promised} (${money(r.promisedCents)})`,
            paid: `${r.paid} (${money(r.paidCents)})`,
            debt: money(r.debtCents),
          })),
        );
      });
    });
}
