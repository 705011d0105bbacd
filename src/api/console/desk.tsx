/** @jsxImportSource hono/jsx */
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { CONVERSATION_STATUSES } from '../../contract/statuses';
import { listCannedResponses } from '../../db/knowledge/canned';
import { contactOf, type ConversationRow } from '../../db/conversations/console';
import { addConversationNote, conversationNotesOf } from '../../db/conversations/notes';
import type { Operator } from '../../db/operators/users';
import { hasRole } from '../../domain/api-keys';
import { cannedVariables, renderCanned } from '../../domain/desk-tools';
import { serviceContext, type AppDeps } from '../context';
import { exportCsv, parseSearchQuery, searchPage, type SearchQuery } from '../desk-search';
import { ApiError, asApiError } from '../errors';
import { outreachBody, outreachTemplates, startOutreach } from '../../services/outreach';
import { loadVisibleConversation } from '../../services/workflow-updates';
import type { ConversationSlotProps } from './slots';
import { ActionForm, notFoundPage, page, time, TableHead } from './layout';
import { done, requireConsoleRole, type ConsoleContext, type ConsoleEnv } from './session';

/** Agents reply to a conversation they hold; supervisors and admins to any in HUMAN (as the reply form). */
const mayReply = (operator: Operator, row: ConversationRow) =>
  row.status === 'HUMAN' && (row.assignedAgent === operator.id || hasRole(operator.role, 'SUPERVISOR'));

async function cannedFor(deps: AppDeps, operator: Operator, row: ConversationRow) {
  const [rows, contact] = await Promise.all([
    listCannedResponses(
      deps.db,
      operator.tenantId,
      hasRole(operator.role, 'SUPERVISOR') ? undefined : operator.department,
    ),
    contactOf(deps.db, row.contactId),
  ]);
  const vars = cannedVariables({
    contactName: contact?.name ?? null,
    agentName: operator.name,
    department: row.department,
  });
  return rows.map((r) => ({ ...r, text: renderCanned(r.body, vars) }));
}

/**
 * The text the reply box starts with: `?canned=<id>` (a link of the picker) fills it with that response, rendered
 * for this conversation. A server round trip instead of a script: the console runs no inline code (CSP).
 */
export async function cannedPrefill(c: ConsoleContext, deps: AppDeps, row: ConversationRow): Promise<string> {
  const id = c.req.query('canned');
  if (!id) return '';
  const found = (await cannedFor(deps, c.get('operator'), row)).find((r) => r.id === id);
  return found?.text ?? '';
}

/** The canned response picker above the reply form (a conversation slot). */
export async function cannedPicker({ deps, operator, conversation }: ConversationSlotProps) {
  if (!mayReply(operator, conversation)) return <></>;
  const rows = await cannedFor(deps, operator, conversation);
  if (rows.length === 0) return <></>;
  return (
    <details id="canned-picker" class="canned">
      <summary>Canned responses ({rows.length})</summary>
      <ul>
        {rows.map((r) => (
          <li data-canned-id={r.id}>
            <a class="canned-use" href={`/console/conversations/${conversation.id}?canned=${r.id}#reply-body`}>
              {r.title}
            </a>{' '}
            {r.department && <span class="muted">{r.department}</span>}
            <div class="muted canned-text">{r.text}</div>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** Internal notes (a conversation slot): agents' context for each other, never sent to the customer. */
export async function notesPanel({ c, deps, conversation }: ConversationSlotProps) {
  const notes = await conversationNotesOf(deps.db, conversation.id);
  return (
    <section id="notes" class="notes">
      <h2>Internal notes</h2>
      <p class="muted">Seen by agents only; never sent to the customer nor shown to the AI.</p>
      {notes.length > 0 && (
        <ol id="note-list">
          {notes.map((n) => (
            <li class="note" data-note-id={n.id}>
              <div class="meta">
                <strong>{n.author ?? 'someone'}</strong> {time(n.createdAt)}
              </div>
              <div class="body">{n.body}</div>
            </li>
          ))}
        </ol>
      )}
      <ActionForm c={c} action={`/console/conversations/${conversation.id}/notes`} class="stack">
        <label for="note-body">Add a note</label>
        <textarea id="note-body" name="body" maxlength={4000} required></textarea>
        <div>
          <button id="add-note" type="submit" class="secondary">
            Add note
          </button>
        </div>
      </ActionForm>
    </section>
  );
}

function SearchForm({ q }: { q: Partial<Record<keyof SearchQuery, string>> }) {
  return (
    <form method="get" action="/console/search" class="stack search" id="search-form">
      <label for="search-q">Words (messages, contact name)</label>
      <input id="search-q" name="q" type="search" maxlength={200} value={q.q ?? ''} />
      <label for="search-phone">Phone (E.164, exact)</label>
      <input id="search-phone" name="phone" type="text" maxlength={20} placeholder="+5511…" value={q.phone ?? ''} />
      <label for="search-status">Status</label>
      <select id="search-status" name="status">
        <option value="">any</option>
        {CONVERSATION_STATUSES.map((s) => (
          <option value={s} selected={q.status === s}>
            {s}
          </option>
        ))}
      </select>
      <label for="search-department">Department</label>
      <input id="search-department" name="department" type="text" maxlength={40} value={q.department ?? ''} />
      <label for="search-from">Started from</label>
      <input id="search-from" name="from" type="date" value={q.from ?? ''} />
      <label for="search-to">Started before</label>
      <input id="search-to" name="to" type="date" value={q.to ?? ''} />
      <div>
        <button id="search" type="submit">
          Search
        </button>
      </div>
    </form>
  );
}

/** Issue 20 E: search, export, notes and outreach pages of the console. */
export function deskPages(app: Hono<ConsoleEnv>, deps: AppDeps) {
  const { db } = deps;

  app.post('/conversations/:id/notes', async (c) => {
    const operator = c.get('operator');
    let row: ConversationRow;
    try {
      row = await loadVisibleConversation(db, operator, c.req.param('id'));
    } catch {
      return notFoundPage(c, 'conversation');
    }
    const back = `/console/conversations/${row.id}#notes`;
    const body = (c.get('form').body ?? '').trim();
    if (!body || body.length > 4000) return done(c, back, 'error', 'Write a note of 1 to 4000 characters.');
    await addConversationNote(db, { tenantId: row.tenantId, conversationId: row.id, authorId: operator.id, body });
    return done(c, back, 'ok', 'Note added.');
  });

  app.get('/search', async (c) => {
    const operator = c.get('operator');
    const raw = c.req.query();
    // A submitted form (any parameter, even all blank: "everything") searches; the bare page only shows the form.
    const asked = Object.keys(raw).length > 0;
    let error: string | null = null;
    let result: Awaited<ReturnType<typeof searchPage>> | null = null;
    if (asked) {
      try {
        result = await searchPage(db, operator, parseSearchQuery(raw));
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 'bad_request') throw e;
        const details = (e.details as { path: string; message: string }[] | undefined) ?? [];
        error = [e.message, ...details.map((d) => `${d.path}: ${d.message}`)].join('; ');
      }
    }
    const params = new URLSearchParams(Object.entries(raw).filter(([k, v]) => k !== 'cursor' && v.trim() !== ''));
    const next = result?.nextCursor ? `/console/search?${params.toString()}&cursor=${result.nextCursor}` : null;
    const exportHref = `/console/search/export${params.size ? `?${params.toString()}` : ''}`;
    return page(
      c,
      'Search',
      <section>
        <h1>Search conversations</h1>
        <p class="muted">
          {hasRole(operator.role, 'SUPERVISOR')
            ? 'Every department of the tenant.'
            : `Department ${operator.department ?? '(none)'}, unrouted conversations and yours.`}
        </p>
        <SearchForm q={raw} />
        {error && (
          <p id="search-error" class="flash error" role="alert">
            {error}
          </p>
        )}
        {result &&
          (result.conversations.length === 0 ? (
            <p class="empty" id="no-results">
              No conversation matches.
            </p>
          ) : (
            <table id="results">
              <TableHead cols={['Contact', 'Status', 'Started', 'Department', 'Agent']} />
              <tbody>
                {result.conversations.map((r) => (
                  <tr data-conversation-id={r.id}>
                    <td data-label="Contact">
                      <a href={`/console/conversations/${r.id}`}>{r.contact.name ?? r.contact.phone}</a>{' '}
                      <span class="muted">{r.channel}</span>
                    </td>
                    <td data-label="Status">
                      <span class={`badge ${r.status}`}>{r.status}</span>
                    </td>
                    <td data-label="Started">{time(r.startedAt)}</td>
                    <td data-label="Department">{r.department ?? '—'}</td>
                    <td data-label="Agent">{r.assignedAgentName ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        <p class="actions">
          {next && (
            <a id="next-page" href={next}>
              Next page →
            </a>
          )}{' '}
          {result && hasRole(operator.role, 'SUPERVISOR') && result.conversations.length > 0 && (
            <a id="export-csv" href={exportHref} download="conversations.csv">
              Export CSV
            </a>
          )}
        </p>
      </section>,
    );
  });

  app.get('/search/export', requireConsoleRole('SUPERVISOR'), (c) => {
    const query = parseSearchQuery(c.req.query());
    c.get('log').info({ export: 'conversations' }, 'conversation search exported from the console');
    return c.body(exportCsv(db, c.get('operator'), query), 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': 'attachment; filename="conversations.csv"',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
  });

  app.get('/outreach', async (c) => {
    const operator = c.get('operator');
    const templates = await outreachTemplates(serviceContext(deps), operator.tenantId);
    const variables = [...new Set(templates.flatMap((t) => t.variables))].filter(
      (v) => !['name', 'first_name', 'agent_name'].includes(v),
    );
    return page(
      c,
      'Outreach',
      <section>
        <h1>Start a conversation</h1>
        <p class="muted">
          WhatsApp: an approved template of the tenant (a business-initiated message must be one). SMS: your text. The
          customer's answer opens a conversation as usual.
        </p>
        <ActionForm c={c} action="/console/outreach" class="stack outreach">
          <input type="hidden" name="_key" value={randomUUID()} />
          <label for="outreach-phone">Phone (E.164)</label>
          <input id="outreach-phone" name="phone" type="tel" maxlength={16} placeholder="+5511…" required />
          <label for="outreach-name">Name (optional)</label>
          <input id="outreach-name" name="name" type="text" maxlength={200} />
          <label for="outreach-channel">Channel</label>
          <select id="outreach-channel" name="channel">
            <option value="whatsapp">WhatsApp (template)</option>
            <option value="sms">SMS (text)</option>
          </select>
          <label for="outreach-template">WhatsApp template</label>
          <select id="outreach-template" name="purpose">
            <option value="">—</option>
            {templates.map((t) => (
              <option
                value={t.purpose}
              >{`${t.purpose}${t.variables.length ? ` (${t.variables.join(', ')})` : ''}`}</option>
            ))}
          </select>
          {variables.map((v) => (
            <>
              <label for={`outreach-var-${v}`}>{`Template variable: ${v}`}</label>
              <input id={`outreach-var-${v}`} name={`var_${v}`} type="text" maxlength={500} />
            </>
          ))}
          <label for="outreach-body">SMS text</label>
          <textarea id="outreach-body" name="body" maxlength={1600}></textarea>
          <div>
            <button id="send-outreach" type="submit">
              Send
            </button>
          </div>
        </ActionForm>
      </section>,
    );
  });

  app.post('/outreach', async (c) => {
    const form = c.get('form');
    const variables = Object.fromEntries(
      Object.entries(form)
        .filter(([k, v]) => k.startsWith('var_') && v.trim() !== '')
        .map(([k, v]) => [k.slice(4), v.trim()]),
    );
    const parsed = outreachBody.safeParse({
      phone: form.phone ?? '',
      channel: form.channel,
      name: form.name?.trim() || undefined,
      purpose: form.channel === 'whatsapp' ? form.purpose || undefined : undefined,
      variables,
      body: form.channel === 'sms' ? (form.body ?? '') : '',
      key: /^[\w.:-]{1,100}$/.test(form._key ?? '') ? form._key : undefined,
    });
    if (!parsed.success)
      return done(c, '/console/outreach', 'error', parsed.error.issues.map((i) => i.message).join('; '));
    try {
      const sent = await startOutreach(serviceContext(deps), c.get('operator'), parsed.data);
      c.get('log').info({ channel: parsed.data.channel, status: sent.status }, 'outreach sent from the console');
      return done(c, '/console/outreach', 'ok', `Sent (${sent.status}). The customer's answer opens a conversation.`);
    } catch (error) {
      const refused = asApiError(error);
      if (refused && refused.code !== 'internal' && refused.code !== 'temporal_unavailable')
        return done(c, '/console/outreach', 'error', refused.message);
      throw error;
    }
  });
}
