/** @jsxImportSource hono/jsx */
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import {
  assignedTo,
  contactOf,
  conversationMessages,
  conversationVersion,
  findTenantOperator,
  humanQueue,
  humanQueueVersion,
  lastHandoffReason,
  inboundMediaForOperator,
  tenantOperators,
  type ConversationRow,
  type QueueRow,
} from '../../db/conversations/console';
import type { Operator } from '../../db/operators/users';
import { hasRole } from '../../domain/api-keys';
import { isTerminal } from '../../domain/conversation-state';
import { conversationActions } from '../../services/conversations';
import { deskActions } from '../../services/desk';
import { listDepartments } from '../../db/operators/admin';
import { listTransfers } from '../../db/conversations/desk';
import { conversationOptions, serviceContext, type AppDeps } from '../context';
import { ApiError, asApiError } from '../errors';
import { fetchTwilioMedia, MediaFetchError, TWILIO_API_ORIGIN } from '../../integrations/twilio-media';
import { messageBody } from '../routes/conversations';
import { cannedPrefill } from './desk';
import { ActionForm, notFoundPage, page, slaLeft, time, waited, TableHead } from './layout';
import { Live, liveFragment } from './live';
import { done, type ConsoleContext, type ConsoleEnv } from './session';
import type { ConversationSlot } from './slots';

export type { ConversationSlot, ConversationSlotProps } from './slots';

const SENDER: Record<string, string> = { customer: 'Customer', ai: 'AI', agent: 'Agent', system: 'System' };

function QueueTable({ rows, now }: { rows: QueueRow[]; now: Date }) {
  if (rows.length === 0) return <p class="empty">No conversation is waiting for a human.</p>;
  return (
    <table id="queue">
      <TableHead cols={['Contact', 'Waiting', 'Reason', 'SLA', 'Department', 'Agent']} />
      <tbody>
        {rows.map((r) => (
          <tr data-conversation-id={r.id}>
            <td data-label="Contact">
              <a href={`/console/conversations/${r.id}`}>{r.contactName ?? r.contactPhone}</a>{' '}
              <span class="muted">{r.channel}</span>
            </td>
            <td
              data-label="Waiting"
              class="wait"
              data-since={r.transferredAt ? new Date(r.transferredAt).toISOString() : undefined}
            >
              {waited(r.transferredAt, now)}
            </td>
            <td data-label="Reason" class="reason">
              {(r.reason ?? '').replace(/^ai handoff: /, '') || '—'}
            </td>
            <td
              data-label="SLA"
              class={r.slaDueAt && r.slaDueAt < now ? 'sla overdue' : 'sla'}
              data-due={r.slaDueAt ? new Date(r.slaDueAt).toISOString() : undefined}
            >
              {r.waitingSince ? slaLeft(r.slaDueAt, now) : <span class="muted">answered</span>}
            </td>
            <td data-label="Department">{r.department ?? '—'}</td>
            <td data-label="Agent">{r.assignedAgentName ?? <span class="muted">unassigned</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Messages({ rows }: { rows: Awaited<ReturnType<typeof conversationMessages>> }) {
  if (rows.length === 0) return <p class="empty">No messages yet.</p>;
  return (
    <ol class="messages" id="messages">
      {rows.map((m) => (
        <li class={`msg ${m.sentBy}`} data-message-id={m.id} data-sender={m.sentBy}>
          <div class="meta">
            <strong class="sender">
              {SENDER[m.sentBy] ?? m.sentBy}
              {m.sentBy === 'agent' && m.author ? ` · ${m.author}` : ''}
            </strong>
            {time(m.createdAt)}
            <span class={`badge status ${m.status}`}>{m.status}</span>
            {m.errorCode && <span class="muted">error {m.errorCode}</span>}
            {m.sentBy !== 'customer' && (
              <a class="why" href={`/console/messages/${m.id}`}>
                why
              </a>
            )}
          </div>
          {m.body && <div class="body">{m.body}</div>}
          {m.media.map((item, n) => {
            // Issue 18 A: only what the customer sent goes through the proxy; an operator's URL is shown, not fetched.
            if (m.sentBy !== 'customer')
              return (
                <div class="media">
                  <span class="media-link">{`media ${n + 1}: ${item.url}`}</span>
                </div>
              );
            const src = `/console/media/${m.id}/${n}`;
            const type = item.contentType ?? '';
            return (
              <div class="media">
                {type.startsWith('image/') ? (
                  <a href={src}>
                    <img src={src} alt={`image ${n + 1}`} loading="lazy" />
                  </a>
                ) : type.startsWith('audio/') ? (
                  <audio controls src={src} preload="none"></audio>
                ) : type.startsWith('video/') ? (
                  <video controls src={src} preload="none"></video>
                ) : null}
                <a class="media-link" href={src}>{`media ${n + 1} (${type || 'unknown type'})`}</a>
              </div>
            );
          })}
        </li>
      ))}
    </ol>
  );
}

/** `slots`: the conversation view's extension points, in order (registered by the composition root, index.tsx). */
export function agentPages(app: Hono<ConsoleEnv>, deps: AppDeps, slots: readonly ConversationSlot[] = []) {
  const { db } = deps;
  const services = serviceContext(deps);
  const actions = conversationActions(services, conversationOptions(deps));
  const desk = deskActions(services);
  const clock = () => deps.clock?.() ?? new Date();

  const queuePage = async (c: ConsoleContext) => {
    const operator = c.get('operator');
    const [rows, version, presence] = await Promise.all([
      humanQueue(db, operator),
      humanQueueVersion(db, operator),
      desk.presence(operator),
    ]);
    return page(
      c,
      'Queue',
      <section>
        <h1>Waiting for a human</h1>
        <p class="muted">
          {hasRole(operator.role, 'SUPERVISOR')
            ? 'Every department of the tenant, the longest wait first.'
            : `Department ${operator.department ?? '(none)'}, the longest wait first.`}
        </p>
        <ActionForm c={c} action="/console/presence" class="inline presence">
          <label for="presence">My presence</label>{' '}
          <select id="presence" name="presence">
            {(['online', 'away', 'offline'] as const).map((p) => (
              <option value={p} selected={p === (presence?.presence ?? 'offline')}>
                {p}
              </option>
            ))}
          </select>{' '}
          <button id="set-presence" type="submit" class="secondary">
            Set
          </button>{' '}
          {presence && (
            <span
              class="muted"
              id="presence-load"
            >{`${presence.open} of ${presence.capacity} open conversations`}</span>
          )}
        </ActionForm>
        <Live id="queue-live" src="/console/live/queue" version={version}>
          <QueueTable rows={rows} now={clock()} />
        </Live>
      </section>,
    );
  };
  app.post('/presence', async (c) => {
    const value = c.get('form').presence;
    if (value !== 'online' && value !== 'away' && value !== 'offline')
      return done(c, '/console', 'error', 'Choose online, away or offline.');
    const result = await desk.setPresence(c.get('operator'), value);
    return done(
      c,
      '/console',
      'ok',
      `You are ${value}.${result.assigned ? ` ${result.assigned} waiting conversation(s) assigned to you.` : ''}`,
    );
  });
  app.get('/', queuePage);
  app.get('/live/queue', (c) =>
    liveFragment(
      c,
      () => humanQueueVersion(db, c.get('operator')),
      async () => <QueueTable rows={await humanQueue(db, c.get('operator'))} now={clock()} />,
    ),
  );

  app.get('/mine', async (c) => {
    const rows = await assignedTo(db, c.get('operator'));
    return page(
      c,
      'Mine',
      <section>
        <h1>My conversations</h1>
        {rows.length === 0 ? (
          <p class="empty">You hold no open conversation.</p>
        ) : (
          <table id="mine">
            <TableHead cols={['Contact', 'Status', 'Since handoff', 'Department']} />
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td data-label="Contact">
                    <a href={`/console/conversations/${r.id}`}>{r.contactName ?? r.contactPhone}</a>
                  </td>
                  <td data-label="Status">
                    <span class={`badge ${r.status}`}>{r.status}</span>
                  </td>
                  <td data-label="Since handoff">{waited(r.transferredAt, clock())}</td>
                  <td data-label="Department">{r.department ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>,
    );
  });

  /** The conversation visible to the operator, or null (→ 404 page). */
  async function visible(c: ConsoleContext): Promise<ConversationRow | null> {
    try {
      return await actions.load(c.get('operator'), c.req.param('id') ?? '');
    } catch (error) {
      if (asApiError(error)?.code === 'not_found') return null;
      throw error;
    }
  }

  async function conversationBody(c: ConsoleContext, row: ConversationRow) {
    const operator = c.get('operator');
    const [messages, contact, reason, agent] = await Promise.all([
      conversationMessages(db, row.id, 200),
      contactOf(db, row.contactId),
      lastHandoffReason(db, row.id),
      row.assignedAgent ? findTenantOperator(db, operator.tenantId, row.assignedAgent) : null,
    ]);
    const base = `/console/conversations/${row.id}`;
    const mine = row.assignedAgent === operator.id;
    const supervisor = hasRole(operator.role, 'SUPERVISOR');
    const open = !isTerminal(row.status);
    const key = randomUUID();
    const Key = () => <input type="hidden" name="_key" value={key} />;
    return (
      <>
        <div class="head">
          <h1>
            {contact?.name ?? contact?.phone ?? 'Conversation'}{' '}
            <span id="conversation-status" class={`badge ${row.status}`}>
              {row.status}
            </span>
          </h1>
          <dl class="facts">
            <dt>Contact</dt>
            <dd>
              {contact?.phone} {contact && <a href={`/journey?phone=${encodeURIComponent(contact.phone)}`}>journey</a>}
            </dd>
            <dt>Channel</dt>
            <dd>{row.channel}</dd>
            <dt>Department</dt>
            <dd id="conversation-department">{row.department ?? '—'}</dd>
            <dt>Agent</dt>
            <dd id="conversation-agent">{agent?.name ?? 'unassigned'}</dd>
            {reason && (
              <>
                <dt>Handoff</dt>
                <dd id="handoff-reason">
                  {reason.replace(/^ai handoff: /, '')} ({waited(row.transferredAt, clock())} ago)
                </dd>
              </>
            )}
          </dl>
          {open && (
            <div class="actions">
              {!mine && (!row.assignedAgent || supervisor) && (
                <ActionForm c={c} action={`${base}/takeover`}>
                  <Key />
                  <button id="take-over" type="submit">
                    {row.assignedAgent ? 'Take over from agent' : 'Take over'}
                  </button>
                </ActionForm>
              )}
              {row.status === 'HUMAN' && (mine || supervisor) && (
                <ActionForm c={c} action={`${base}/release`}>
                  <Key />
                  <button id="release" type="submit" class="secondary">
                    Release to the AI
                  </button>
                </ActionForm>
              )}
              {(mine || supervisor || !row.assignedAgent) && (
                <ActionForm c={c} action={`${base}/resolve`}>
                  <Key />
                  <button id="resolve" type="submit" class="secondary">
                    Resolve
                  </button>
                </ActionForm>
              )}
            </div>
          )}
        </div>
        <Messages rows={messages} />
      </>
    );
  }

  app.get('/conversations/:id', async (c) => {
    const row = await visible(c);
    if (!row) return notFoundPage(c, 'conversation');
    const operator = c.get('operator');
    const base = `/console/conversations/${row.id}`;
    const [version, body, agents, transfers, departments, colleagues, prefill] = await Promise.all([
      conversationVersion(db, row.id),
      conversationBody(c, row),
      hasRole(operator.role, 'SUPERVISOR') ? tenantOperators(db, operator.tenantId) : Promise.resolve([]),
      listTransfers(db, row.id),
      listDepartments(db, operator.tenantId),
      tenantOperators(db, operator.tenantId),
      cannedPrefill(c, deps, row),
    ]);
    const rendered: Child[] = [];
    for (const slot of slots) rendered.push(await slot({ c, deps, operator, conversation: row }));
    const mayReply =
      row.status === 'HUMAN' && (row.assignedAgent === operator.id || hasRole(operator.role, 'SUPERVISOR'));
    return page(
      c,
      'Conversation',
      <section>
        <p>
          <a href="/console">← Queue</a>
        </p>
        <Live id="conversation-live" src={`/console/live/conversations/${row.id}`} version={version}>
          {body}
        </Live>
        {rendered.map((s) => (
          <div class="slot">{s}</div>
        ))}
        {mayReply && (
          <ActionForm c={c} action={`${base}/reply`} class="stack reply">
            <input type="hidden" name="_key" value={randomUUID()} />
            <label for="reply-body">Reply</label>
            <textarea id="reply-body" name="body" maxlength={1600}>
              {prefill}
            </textarea>
            <label for="reply-media">Media URL (optional, public https)</label>
            <input id="reply-media" name="mediaUrl" type="url" maxlength={2000} placeholder="https://…" />
            <div>
              <button id="send-reply" type="submit">
                Send
              </button>
            </div>
          </ActionForm>
        )}
        {transfers.length > 0 && (
          <section class="transfers">
            <h2>Transfers</h2>
            <ol id="transfers">
              {transfers.map((t) => (
                <li>
                  {time(t.createdAt)} {`${t.fromDepartment ?? '—'} → ${t.toDepartment ?? '—'}`}
                  {t.toAgentName ? ` (to ${t.toAgentName})` : ''}
                  {t.note && <div class="note">{t.note}</div>}
                </li>
              ))}
            </ol>
          </section>
        )}
        {row.status === 'HUMAN' &&
          (row.assignedAgent === operator.id || !row.assignedAgent || hasRole(operator.role, 'SUPERVISOR')) && (
            <ActionForm c={c} action={`${base}/transfer`} class="stack transfer">
              <label for="transfer-department">Transfer to department</label>
              <select id="transfer-department" name="department">
                <option value="">(same department)</option>
                {departments.map((d) => (
                  <option value={d.name}>{d.name}</option>
                ))}
              </select>
              <label for="transfer-agent">or to an agent</label>
              <select id="transfer-agent" name="agentId">
                <option value="">(the department's queue)</option>
                {colleagues.map((a) => (
                  <option value={a.id}>{`${a.name}${a.department ? ` (${a.department})` : ''}`}</option>
                ))}
              </select>
              <label for="transfer-note">Note for the next agent (never sent to the customer)</label>
              <textarea id="transfer-note" name="note" maxlength={2000}></textarea>
              <input type="hidden" name="_key" value={randomUUID()} />
              <div>
                <button id="transfer" type="submit" class="secondary">
                  Transfer
                </button>
              </div>
            </ActionForm>
          )}
        {!isTerminal(row.status) && agents.length > 0 && (
          <ActionForm c={c} action={`${base}/assign`} class="stack assign">
            <label for="assign-to">Assign to</label>
            <select id="assign-to" name="agentId">
              {agents.map((a) => (
                <option value={a.id} selected={a.id === row.assignedAgent}>
                  {`${a.name} (${a.role}${a.department ? `, ${a.department}` : ''})`}
                </option>
              ))}
            </select>
            <input type="hidden" name="_key" value={randomUUID()} />
            <div>
              <button id="assign" type="submit" class="secondary">
                Reassign
              </button>
            </div>
          </ActionForm>
        )}
      </section>,
    );
  });

  app.get('/live/conversations/:id', async (c) => {
    const row = await visible(c);
    if (!row) return c.text('not found', 404);
    return liveFragment(
      c,
      () => conversationVersion(db, row.id),
      () => conversationBody(c, row),
    );
  });

  /** An action on a conversation: runs it, then back to the conversation with what happened (or why not). */
  const act = (
    name: string,
    run: (operator: Operator, row: ConversationRow, form: Record<string, string>, key: string) => Promise<string>,
  ) =>
    app.post(`/conversations/:id/${name}`, async (c) => {
      const row = await visible(c);
      if (!row) return notFoundPage(c, 'conversation');
      const form = c.get('form');
      const key = /^[\w.:-]{1,128}$/.test(form._key ?? '') ? form._key! : randomUUID();
      const back = `/console/conversations/${row.id}`;
      try {
        return done(c, back, 'ok', await run(c.get('operator'), row, form, key));
      } catch (error) {
        const refused = asApiError(error);
        if (refused && refused.code !== 'internal') {
          c.get('log').info({ action: name, code: refused.code }, 'console action refused');
          return done(c, back, 'error', refused.message);
        }
        throw error;
      }
    });

  act('takeover', async (operator, row, _form, key) => {
    await actions.takeOver(operator, row, { force: !!row.assignedAgent && row.assignedAgent !== operator.id, key });
    return 'You hold this conversation now.';
  });
  act('reply', async (operator, row, form, key) => {
    // The JSON API's schema: text optional with a media URL, which must be a public https address.
    const parsed = messageBody.safeParse({ body: form.body ?? '', mediaUrl: form.mediaUrl?.trim() || undefined });
    if (!parsed.success) {
      const badUrl = parsed.error.issues.some((i) => i.path[0] === 'mediaUrl');
      throw new ApiError(
        'bad_request',
        badUrl
          ? 'The media URL must be a public https address (https://…), at most 2000 characters.'
          : 'Write a reply of 1 to 1600 characters, or give a media URL.',
      );
    }
    await actions.reply(operator, row, parsed.data.body, key, parsed.data.mediaUrl);
    return 'Reply sent.';
  });
  act('release', async (operator, row, _form, key) => {
    await actions.release(operator, row, 'released from the console', key);
    return 'Released to the AI.';
  });
  act('resolve', async (operator, row, _form, key) => {
    await actions.resolve(operator, row, 'resolved from the console', key);
    return 'Conversation resolved.';
  });
  act('transfer', async (operator, row, form, key) => {
    const department = form.department?.trim() || undefined;
    const agentId = form.agentId?.trim() || undefined;
    const note = form.note?.trim().slice(0, 2000) || undefined;
    if (!department && !agentId) throw new ApiError('bad_request', 'Choose a department or an agent.');
    await desk.transfer(operator, row, { department, agentId, note }, key);
    return `Transferred${department ? ` to ${department}` : ''}.`;
  });
  act('assign', async (operator, row, form, key) => {
    if (!hasRole(operator.role, 'SUPERVISOR')) throw new ApiError('forbidden', 'only supervisors reassign');
    const target = await findTenantOperator(db, operator.tenantId, form.agentId ?? '');
    if (!target) throw new ApiError('bad_request', 'no such agent');
    await actions.takeOver(operator, row, { force: true, to: { id: target.id, name: target.name }, key });
    return `Assigned to ${target.name}.`;
  });

  /**
   * The authenticated media proxy (issue 18 A): only media Twilio delivered on an inbound message, matched exactly
   * against what was recorded at receipt (src/db/console.ts inboundMediaForOperator); the tenant's credentials go
   * to that URL alone, redirects are followed without them; anything else is 404.
   */
  const mediaOrigins = [
    ...new Set([
      TWILIO_API_ORIGIN,
      ...(deps.env.TWILIO_API_BASE_URL ? [new URL(deps.env.TWILIO_API_BASE_URL).origin] : []),
    ]),
  ];
  app.get('/media/:messageId/:n', async (c) => {
    const n = Number(c.req.param('n'));
    const messageId = c.req.param('messageId');
    if (!Number.isInteger(n) || n < 0 || n > 9 || !/^[0-9a-f-]{36}$/i.test(messageId)) return c.text('not found', 404);
    const media = await inboundMediaForOperator(db, c.get('operator'), messageId, n, mediaOrigins);
    if (!media) return c.text('not found', 404);
    let upstream: Response;
    try {
      upstream = await fetchTwilioMedia(media.url, media, { trustedOrigins: mediaOrigins });
    } catch (error) {
      if (error instanceof MediaFetchError) c.get('log').warn({ reason: error.message }, 'media proxy: refused');
      return c.text('media unavailable, retry later', 502);
    }
    if (!upstream.ok || !upstream.body) {
      c.get('log').warn({ status: upstream.status }, 'media proxy: Twilio refused the media');
      await upstream.body?.cancel();
      return c.text('media unavailable', upstream.status === 404 ? 404 : 502);
    }
    const type = upstream.headers.get('content-type') ?? media.contentType ?? 'application/octet-stream';
    const inline = /^(image|audio|video)\//.test(type) && !/svg/i.test(type);
    return c.body(upstream.body, 200, {
      'Content-Type': type,
      'Content-Disposition': inline ? 'inline' : `attachment; filename="media-${n + 1}"`,
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, max-age=300',
    });
  });
}
