import { Hono, type Context } from 'hono';
import { toCsv } from '../../domain/report-range';
import { authenticate } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { CAMPAIGN_COLUMNS, DESK_COLUMNS, parseReportQuery, runCampaignReport, runDeskReport } from '../reports';

/** CSV when asked by `?format=csv` or `Accept: text/csv` (and not overridden by `?format=json`). */
const wantsCsv = (c: Context<AppEnv>) =>
  c.req.query('format') === 'csv' ||
  (c.req.query('format') !== 'json' && /\btext\/csv\b/.test(c.req.header('accept') ?? ''));

const csv = (c: Context<AppEnv>, name: string, body: string) =>
  c.body(body, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${name}.csv"`,
    'Cache-Control': 'no-store',
  });

/** Issue 20 F: GET /api/reports/desk and /api/reports/campaigns (JSON, or CSV). */
export function reportRoutes(deps: AppDeps) {
  const now = () => deps.clock?.() ?? new Date();
  return new Hono<AppEnv>()
    .use('*', authenticate(deps))
    .get('/desk', async (c) => {
      const report = await runDeskReport(deps.db, c.get('operator'), parseReportQuery(c.req.query(), now()));
      if (!wantsCsv(c)) return c.json(report);
      return csv(
        c,
        'desk-report',
        toCsv([...report.rows, ...report.days, ...(report.totals ? [report.totals] : [])], DESK_COLUMNS),
      );
    })
    .get('/campaigns', async (c) => {
      const report = await runCampaignReport(deps.db, c.get('operator'), parseReportQuery(c.req.query(), now()));
      if (!wantsCsv(c)) return c.json(report);
      return csv(c, 'campaign-report', toCsv(report.campaigns, CAMPAIGN_COLUMNS));
    });
}
