/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import type { CampaignReportRow, DeskReportRow } from '../../db/conversations/reports';
import type { AppDeps } from '../context';
import { ApiError } from '../errors';
import { toCsv } from '../../domain/report-range';
import { CAMPAIGN_COLUMNS, DESK_COLUMNS, parseReportQuery, runCampaignReport, runDeskReport } from '../reports';
import { page, TableHead } from './layout';
import { requireConsoleRole, type ConsoleContext, type ConsoleEnv } from './session';

/*
 * Issue 20 F: /console/reports. Charts are SVG drawn here (no script, no library): a viewBox scaled to the page
 * width, so the same picture reads on a laptop and at 390 px; colours come from console.css classes.
 */

const W = 640;
const H = 220;
const PAD = { left: 44, right: 8, top: 12, bottom: 28 };

/** A round upper bound for an axis (1, 2, 5 × 10^n). */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function Axis({ max, unit }: { max: number; unit: string }) {
  const plotH = H - PAD.top - PAD.bottom;
  return (
    <g class="axis">
      {[0, 0.5, 1].map((f) => {
        const y = PAD.top + plotH * (1 - f);
        return (
          <>
            <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} class="grid" />
            <text x={PAD.left - 4} y={y + 4} text-anchor="end">
              {`${Math.round(max * f * 10) / 10}${unit}`}
            </text>
          </>
        );
      })}
    </g>
  );
}

function XLabels({ labels }: { labels: string[] }) {
  const plotW = W - PAD.left - PAD.right;
  const step = Math.max(1, Math.ceil(labels.length / 7));
  return (
    <g class="axis">
      {labels.map((l, i) =>
        i % step === 0 ? (
          <text x={PAD.left + (plotW * (i + 0.5)) / labels.length} y={H - 8} text-anchor="middle">
            {l}
          </text>
        ) : null,
      )}
    </g>
  );
}

function Legend({ series }: { series: { name: string; cls: string }[] }) {
  return (
    <p class="legend">
      {series.map((s) => (
        <span class={`key ${s.cls}`}>{s.name}</span>
      ))}
    </p>
  );
}

/** Grouped bars: one group per label, one bar per series. */
export function BarChart(props: {
  id: string;
  title: string;
  labels: string[];
  series: { name: string; cls: string; values: number[] }[];
  unit?: string;
}) {
  const max = niceMax(Math.max(0, ...props.series.flatMap((s) => s.values)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const group = plotW / Math.max(1, props.labels.length);
  const bar = (group * 0.8) / props.series.length;
  return (
    <figure class="chart" id={props.id}>
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title} preserveAspectRatio="xMidYMid meet">
        <Axis max={max} unit={props.unit ?? ''} />
        {props.series.map((s, si) =>
          s.values.map((v, i) => {
            const h = (plotH * v) / max;
            return (
              <rect
                class={`bar ${s.cls}`}
                x={PAD.left + group * i + group * 0.1 + bar * si}
                y={PAD.top + plotH - h}
                width={Math.max(1, bar - 1)}
                height={h}
                data-label={props.labels[i]}
                data-value={v}
              >
                <title>{`${props.labels[i]} ${s.name}: ${v}${props.unit ?? ''}`}</title>
              </rect>
            );
          }),
        )}
        <XLabels labels={props.labels} />
      </svg>
      <Legend series={props.series} />
    </figure>
  );
}

/** Lines (one per series) over the labels; a null value breaks the line. */
export function LineChart(props: {
  id: string;
  title: string;
  labels: string[];
  series: { name: string; cls: string; values: (number | null)[] }[];
  unit?: string;
}) {
  const max = niceMax(Math.max(0, ...props.series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (plotW * (i + 0.5)) / Math.max(1, props.labels.length);
  const y = (v: number) => PAD.top + plotH - (plotH * v) / max;
  return (
    <figure class="chart" id={props.id}>
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title} preserveAspectRatio="xMidYMid meet">
        <Axis max={max} unit={props.unit ?? ''} />
        {props.series.map((s) => {
          const path = s.values
            .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
            .reduce<string[]>((segments, point, i) => {
              if (point === null) return segments;
              const joined = i > 0 && s.values[i - 1] !== null;
              segments.push(`${joined ? 'L' : 'M'}${point}`);
              return segments;
            }, [])
            .join(' ');
          return (
            <g class={`series ${s.cls}`}>
              {path && <path d={path} class="line" />}
              {s.values.map((v, i) =>
                v === null ? null : (
                  <circle cx={x(i)} cy={y(v)} r={3} class="dot" data-label={props.labels[i]} data-value={v}>
                    <title>{`${props.labels[i]} ${s.name}: ${v}${props.unit ?? ''}`}</title>
                  </circle>
                ),
              )}
            </g>
          );
        })}
        <XLabels labels={props.labels} />
      </svg>
      <Legend series={props.series} />
    </figure>
  );
}

const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);
const mins = (s: number | null) => (s === null ? null : Math.round(s / 6) / 10);
const minText = (s: number | null) => (s === null ? '—' : `${mins(s)} min`);
const money = (cents: number) => (cents / 100).toFixed(2);

function DeskTable({ rows }: { rows: DeskReportRow[] }) {
  return (
    <table id="desk-table">
      <TableHead
        cols={[
          'Day',
          'Department',
          'Agent',
          'Conversations',
          'AI contained',
          'Handoffs',
          'First response p50 / p90',
          'Resolution p50 / p90',
          'SLA breaches',
          'NPS',
        ]}
      />
      <tbody>
        {rows.map((r) => (
          <tr class={r.level}>
            <td data-label="Day">{r.level === 'total' ? 'Total' : r.day}</td>
            <td data-label="Department">{r.level === 'detail' ? (r.department ?? '—') : ''}</td>
            <td data-label="Agent">{r.level === 'detail' ? (r.agentName ?? 'AI / unassigned') : ''}</td>
            <td data-label="Conversations" class="conversations">
              {r.conversations}
            </td>
            <td data-label="AI contained">{pct(r.aiContainment)}</td>
            <td data-label="Handoffs">{pct(r.handoffRate)}</td>
            <td data-label="First response">{`${minText(r.firstResponseP50Seconds)} / ${minText(r.firstResponseP90Seconds)}`}</td>
            <td data-label="Resolution">{`${minText(r.resolutionP50Seconds)} / ${minText(r.resolutionP90Seconds)}`}</td>
            <td data-label="SLA breaches">{r.slaBreaches}</td>
            <td data-label="NPS">{r.nps === null ? '—' : `${r.nps} (${r.npsResponses})`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CampaignFunnels({ rows }: { rows: CampaignReportRow[] }) {
  if (rows.length === 0) return <p class="empty">No campaign in the period.</p>;
  return (
    <>
      {rows.map((k) => (
        <section class="funnel" data-campaign-id={k.campaignId}>
          <BarChart
            id={`funnel-${k.campaignId}`}
            title={`${k.name} (${k.status}): ${k.targets} targets; debt ${money(k.debtCents)}, promised ${money(k.promisedCents)}, paid ${money(k.paidCents)}`}
            labels={['contacted', 'delivered', 'read', 'replied', 'promised', 'paid']}
            series={[
              {
                name: 'targets',
                cls: 's1',
                values: [k.contacted, k.delivered, k.read, k.replied, k.promised, k.paid],
              },
            ]}
          />
        </section>
      ))}
    </>
  );
}

export function reportPages(app: Hono<ConsoleEnv>, deps: AppDeps) {
  const now = () => deps.clock?.() ?? new Date();
  const csv = (c: ConsoleContext, name: string, body: string) =>
    c.body(body, 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}.csv"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
  app.get('/reports/desk.csv', requireConsoleRole('SUPERVISOR'), async (c) => {
    const desk = await runDeskReport(deps.db, c.get('operator'), parseReportQuery(c.req.query(), now()));
    return csv(
      c,
      'desk-report',
      toCsv([...desk.rows, ...desk.days, ...(desk.totals ? [desk.totals] : [])], DESK_COLUMNS),
    );
  });
  app.get('/reports/campaigns.csv', requireConsoleRole('SUPERVISOR'), async (c) => {
    const report = await runCampaignReport(deps.db, c.get('operator'), parseReportQuery(c.req.query(), now()));
    return csv(c, 'campaign-report', toCsv(report.campaigns, CAMPAIGN_COLUMNS));
  });
  app.get('/reports', requireConsoleRole('SUPERVISOR'), async (c) => {
    const operator = c.get('operator');
    const raw = c.req.query();
    let query: ReturnType<typeof parseReportQuery>;
    let error: string | null = null;
    try {
      query = parseReportQuery(raw, now());
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      error = e.message;
      query = parseReportQuery({}, now());
    }
    const [desk, campaigns] = await Promise.all([
      runDeskReport(deps.db, operator, query),
      runCampaignReport(deps.db, operator, query),
    ]);
    const labels = desk.days.map((d) => (d.day ?? '').slice(5));
    const csvParams = new URLSearchParams(Object.entries(raw).filter(([, v]) => v.trim() !== ''));
    csvParams.set('format', 'csv');
    return page(
      c,
      'Reports',
      <section class="reports">
        <h1>Reports</h1>
        <form method="get" action="/console/reports" class="stack" id="report-form">
          <label for="report-since">Since (7d, 24h or a date)</label>
          <input id="report-since" name="since" type="text" maxlength={40} value={raw.since ?? '7d'} />
          <label for="report-department">Department</label>
          <input id="report-department" name="department" type="text" maxlength={40} value={raw.department ?? ''} />
          <label for="report-zone">Time zone of the days</label>
          <input id="report-zone" name="timeZone" type="text" maxlength={60} value={raw.timeZone ?? 'UTC'} />
          <div>
            <button id="run-report" type="submit">
              Show
            </button>
          </div>
        </form>
        {error && (
          <p id="report-error" class="flash error" role="alert">
            {error}
          </p>
        )}
        <h2>Desk</h2>
        <p class="muted" id="desk-summary">
          {`${desk.totals?.conversations ?? 0} conversations, AI contained ${pct(desk.totals?.aiContainment ?? null)}, handoffs ${pct(desk.totals?.handoffRate ?? null)}, SLA breaches ${desk.totals?.slaBreaches ?? 0}, NPS ${desk.totals?.nps ?? '—'}`}
        </p>
        {desk.days.length > 0 && (
          <div class="charts">
            <BarChart
              id="chart-conversations"
              title="Conversations and handoffs per day"
              labels={labels}
              series={[
                { name: 'conversations', cls: 's1', values: desk.days.map((d) => d.conversations) },
                { name: 'handed to a human', cls: 's2', values: desk.days.map((d) => d.handoffs) },
              ]}
            />
            <LineChart
              id="chart-first-response"
              title="First response per day (minutes)"
              labels={labels}
              unit=" min"
              series={[
                { name: 'p50', cls: 's1', values: desk.days.map((d) => mins(d.firstResponseP50Seconds)) },
                { name: 'p90', cls: 's3', values: desk.days.map((d) => mins(d.firstResponseP90Seconds)) },
              ]}
            />
          </div>
        )}
        <DeskTable rows={[...desk.rows, ...(desk.totals ? [desk.totals] : [])]} />
        <p>
          <a id="desk-csv" href={`/console/reports/desk.csv?${csvParams.toString()}`}>
            Desk report as CSV
          </a>{' '}
          <a id="campaigns-csv" href={`/console/reports/campaigns.csv?${csvParams.toString()}`}>
            Campaign report as CSV
          </a>
        </p>
        <h2>Campaigns</h2>
        <CampaignFunnels rows={campaigns.campaigns} />
      </section>,
    );
  });
}
