/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import { listDepartments } from '../../db/operators/admin';
import { listDeskSettings, resolveDeskPolicy, setDeskSettings } from '../../db/conversations/desk';
import { hasRole } from '../../domain/api-keys';
import { DeskHoursError, nextDeskOpening, parseDeskSchedule } from '../../domain/desk-hours';
import { formatDuration, parseDuration } from '../../domain/duration';
import type { AppDeps } from '../context';
import { ActionForm, notFoundPage, page, time, TableHead } from './layout';
import { done, type ConsoleEnv } from './session';

const BACK = '/console/admin/desk';
const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** ADMIN (issue 20 B, C): desk hours and SLAs per tenant and department, what `causeway desk hours|sla set` sets. */
export function deskAdminPages(app: Hono<ConsoleEnv>, deps: AppDeps) {
  const { db } = deps;
  const clock = () => deps.clock?.() ?? new Date();

  app.get('/admin/desk', async (c) => {
    const operator = c.get('operator');
    if (!hasRole(operator.role, 'ADMIN')) return notFoundPage(c);
    const [rows, departments] = await Promise.all([
      listDeskSettings(db, operator.tenantId),
      listDepartments(db, operator.tenantId),
    ]);
    const now = clock();
    const desks = [null, ...departments.map((d) => d.name)].map((department) => {
      const policy = resolveDeskPolicy(rows, department, 'en');
      const own = rows.find((r) => r.department === department);
      return { department, policy, own, opens: nextDeskOpening(policy.schedule, now) };
    });
    return page(
      c,
      'Desk',
      <section>
        <h1>Desk hours and SLAs</h1>
        <p class="muted">
          A department without settings of its own follows the tenant's. No hours: the desk is always open. SLAs count
          desk time only; unset, they are DESK_FIRST_RESPONSE_SLA and DESK_NEXT_RESPONSE_SLA.
        </p>
        <table id="desk-settings">
          <TableHead cols={['Desk', 'Hours', 'Holidays / closed', 'First / next response', 'Now']} />
          <tbody>
            {desks.map((d) => (
              <tr data-desk={d.department ?? ''}>
                <td data-label="Desk">
                  {d.department ?? 'tenant'}
                  {d.department && !d.own ? <span class="muted"> (inherits)</span> : ''}
                </td>
                <td data-label="Hours">
                  {d.policy.schedule
                    ? `${d.own?.hours ?? rows.find((r) => !r.department)?.hours} (${d.policy.schedule.timeZone})`
                    : 'always open'}
                </td>
                <td data-label="Holidays">
                  {[...(d.policy.schedule?.holidays ?? []), ...(d.policy.schedule?.closedDates ?? [])].join(', ') ||
                    '—'}
                </td>
                <td data-label="SLA">
                  {`${d.policy.firstResponseSlaMs ? formatDuration(d.policy.firstResponseSlaMs) : 'default'} / ${d.policy.nextResponseSlaMs ? formatDuration(d.policy.nextResponseSlaMs) : 'default'}`}
                </td>
                <td data-label="Now" class="desk-now">
                  {!d.opens ? 'never opens' : d.opens.getTime() === now.getTime() ? 'open' : <>opens {time(d.opens)}</>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Set hours</h2>
        <ActionForm c={c} action="/console/admin/desk/hours" class="stack">
          <label for="desk-department">Desk</label>
          <select id="desk-department" name="department">
            <option value="">tenant (every department without its own)</option>
            {departments.map((d) => (
              <option value={d.name}>{d.name}</option>
            ))}
          </select>
          <label for="desk-time-zone">Time zone</label>
          <input id="desk-time-zone" name="timeZone" required placeholder="America/Sao_Paulo" />
          <label for="desk-hours">Weekly hours</label>
          <input id="desk-hours" name="hours" required placeholder="mon-fri 08:00-18:00; sat 08:00-12:00" />
          <label for="desk-holidays">Holiday calendars (BR, BR-SP, BR-RJ)</label>
          <input id="desk-holidays" name="holidays" placeholder="BR" />
          <label for="desk-closed">Closed dates (YYYY-MM-DD, comma-separated)</label>
          <input id="desk-closed" name="closed" placeholder="2026-12-24,2026-12-31" />
          <div>
            <button id="set-desk-hours" type="submit">
              Save hours
            </button>
          </div>
        </ActionForm>
        <h2>Set SLAs</h2>
        <ActionForm c={c} action="/console/admin/desk/sla" class="stack">
          <label for="sla-department">Desk</label>
          <select id="sla-department" name="department">
            <option value="">tenant</option>
            {departments.map((d) => (
              <option value={d.name}>{d.name}</option>
            ))}
          </select>
          <label for="sla-first">First response (e.g. 15m; empty: inherit)</label>
          <input id="sla-first" name="firstResponse" placeholder="15m" />
          <label for="sla-next">Next response (e.g. 30m; empty: inherit)</label>
          <input id="sla-next" name="nextResponse" placeholder="30m" />
          <div>
            <button id="set-desk-sla" type="submit">
              Save SLAs
            </button>
          </div>
        </ActionForm>
      </section>,
    );
  });

  const departmentOf = async (tenantId: string, name: string | undefined) => {
    if (!name) return { ok: true as const, department: null };
    const known = (await listDepartments(db, tenantId)).map((d) => d.name);
    return known.includes(name) ? { ok: true as const, department: name } : { ok: false as const };
  };

  app.post('/admin/desk/hours', async (c) => {
    const operator = c.get('operator');
    const form = c.get('form');
    const target = await departmentOf(operator.tenantId, form.department?.trim());
    if (!target.ok) return done(c, BACK, 'error', 'No such department.');
    try {
      const schedule = parseDeskSchedule({
        timeZone: (form.timeZone ?? '').trim(),
        hours: form.hours ?? '',
        holidays: list(form.holidays),
        closedDates: list(form.closed),
      });
      await setDeskSettings(db, operator.tenantId, target.department, {
        timeZone: schedule.timeZone,
        hours: schedule.hoursSpec,
        holidays: schedule.holidays,
        closedDates: schedule.closedDates,
      });
      return done(c, BACK, 'ok', `Hours of ${target.department ?? 'the tenant'}: ${schedule.hoursSpec}.`);
    } catch (error) {
      if (error instanceof DeskHoursError) return done(c, BACK, 'error', error.message);
      throw error;
    }
  });

  app.post('/admin/desk/sla', async (c) => {
    const operator = c.get('operator');
    const form = c.get('form');
    const target = await departmentOf(operator.tenantId, form.department?.trim());
    if (!target.ok) return done(c, BACK, 'error', 'No such department.');
    const read = (v: string | undefined): number | null | 'bad' => {
      if (!v?.trim()) return null;
      try {
        const ms = parseDuration(v.trim());
        return ms >= 1000 && ms <= 30 * 86_400_000 ? ms : 'bad';
      } catch {
        return 'bad';
      }
    };
    const first = read(form.firstResponse);
    const next = read(form.nextResponse);
    if (first === 'bad' || next === 'bad')
      return done(c, BACK, 'error', 'An SLA is a duration between 1s and 30d, such as 15m or 2h.');
    await setDeskSettings(db, operator.tenantId, target.department, {
      firstResponseSlaMs: first,
      nextResponseSlaMs: next,
    });
    return done(c, BACK, 'ok', `SLAs of ${target.department ?? 'the tenant'} saved.`);
  });
}
