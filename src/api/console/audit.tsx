/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import { listAudit } from '../../db/operators/audit';
import { parseDuration } from '../../domain/duration';
import type { AppDeps } from '../context';
import { page, time, TableHead } from './layout';
import type { ConsoleEnv } from './session';

const PAGE = 100;

/**
 * ADMIN: the tenant's audit log (issue 18 G), newest first, 100 a page, filtered by period and actor. Under
 * /admin/, so the admin section's guard answers 403 to anyone else; reading it is itself recorded.
 */
export function auditPages(app: Hono<ConsoleEnv>, deps: AppDeps) {
  app.get('/admin/audit', async (c) => {
    const sinceText = c.req.query('since') || '24h';
    let sinceMs: number;
    try {
      sinceMs = parseDuration(sinceText);
    } catch {
      sinceMs = 86_400_000;
    }
    const actorParam = c.req.query('actor')?.trim() ?? '';
    const actor = /^([0-9a-f-]{36}|cli:[\w.@-]{1,64})$/i.test(actorParam) ? actorParam : undefined;
    const before = Number(c.req.query('before'));
    const rows = await listAudit(deps.db, {
      tenantId: c.get('operator').tenantId,
      since: new Date(Date.now() - sinceMs),
      actor,
      beforeId: Number.isSafeInteger(before) && before > 0 ? before : undefined,
      limit: PAGE,
    });
    const next = rows.length === PAGE ? rows[rows.length - 1]!.id : null;
    const query = (extra: Record<string, string>) =>
      new URLSearchParams({ since: sinceText, ...(actor ? { actor } : {}), ...extra }).toString();
    return page(
      c,
      'Audit log',
      <section>
        <h1>Audit log</h1>
        <p class="muted">
          Every operator and admin action, through the API, this console, the codec endpoint and the CLI. Records name
          people and contacts by id (a contact by its keyed hash), never by phone number or message text.
        </p>
        <form method="get" action="/console/admin/audit" class="stack">
          <label>
            Since
            <input name="since" value={sinceText} pattern="[0-9.]+(ms|s|m|h|d)([0-9.]+(ms|s|m|h|d))*" />
          </label>
          <label>
            Actor (user id or cli:user)
            <input name="actor" value={actor ?? ''} />
          </label>
          <button type="submit">Filter</button>
        </form>
        {rows.length === 0 ? (
          <p class="empty">No records in this period.</p>
        ) : (
          <table id="audit">
            <TableHead cols={['When', 'Actor', 'Via', 'Action', 'Target', 'Outcome', 'Request']} />
            <tbody>
              {rows.map((r) => (
                <tr data-audit-id={String(r.id)} data-action={r.action} data-outcome={r.outcome}>
                  <td data-label="When">{time(r.occurredAt)}</td>
                  <td data-label="Actor">
                    <code>{r.actorUserId ?? r.actorLabel}</code> {r.role ? <span class="muted">{r.role}</span> : ''}
                  </td>
                  <td data-label="Via">{r.via}</td>
                  <td data-label="Action">
                    <code>{r.action}</code>
                  </td>
                  <td data-label="Target">{r.targetId ? <code>{`${r.targetType}:${r.targetId}`}</code> : ''}</td>
                  <td data-label="Outcome">
                    {r.outcome}
                    {r.status ? <span class="muted"> {r.status}</span> : ''}
                  </td>
                  <td data-label="Request">
                    <code>{r.requestId ?? ''}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {next !== null && (
          <p>
            <a id="audit-older" href={`/console/admin/audit?${query({ before: String(next) })}`}>
              Older records
            </a>
          </p>
        )}
      </section>,
    );
  });
}
