/** @jsxImportSource hono/jsx */
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import type { ConversationRow } from '../../db/conversations/console';
import type { Operator } from '../../db/operators/users';
import { draftsVersion, listConversationDrafts } from '../../db/conversations/drafts';
import { isTerminal } from '../../domain/conversation-state';
import { serviceContext, type AppDeps } from '../context';
import { draftActions } from '../../services/drafts';
import { ApiError, asApiError } from '../errors';
import type { ConversationSlot } from './slots';
import { ActionForm, notFoundPage, time, waited } from './layout';
import { Live, liveFragment } from './live';
import { done, type ConsoleContext, type ConsoleEnv } from './session';

/**
 * Hybrid mode's panel in the conversation view (issue 13 B): the AI's pending draft with send as is, edit and send,
 * and reject with a reason; below it the last decisions. A live region of its own, so a new draft appears without a
 * reload; its version changes only when a draft does, so a half-typed edit is replaced only by a newer draft.
 */
async function DraftPanelBody({ c, deps, row }: { c: ConsoleContext; deps: AppDeps; row: ConversationRow }) {
  const drafts = await listConversationDrafts(deps.db, row.id, 6);
  if (drafts.length === 0) return <></>;
  const open = !isTerminal(row.status);
  const pending = open ? drafts.find((d) => d.outcome === null) : undefined;
  const base = `/console/conversations/${row.id}/drafts`;
  const history = drafts.filter((d) => d !== pending && d.outcome !== 'superseded').slice(0, 5);
  return (
    <section id="draft-panel" class="drafts">
      <h2>AI draft</h2>
      {pending ? (
        <div id="pending-draft" class="draft" data-draft-id={pending.id}>
          <p class="muted">
            Suggested {waited(pending.createdAt)} ago
            {pending.escalatedAt && <span class="badge high">unattended</span>}
          </p>
          <blockquote id="draft-text">{pending.draftText}</blockquote>
          <div class="actions">
            <ActionForm c={c} action={`${base}/${pending.id}/approve`}>
              <input type="hidden" name="_key" value={randomUUID()} />
              <button id="draft-approve" type="submit">
                Send as is
              </button>
            </ActionForm>
          </div>
          <ActionForm c={c} action={`${base}/${pending.id}/edit`} class="stack">
            <input type="hidden" name="_key" value={randomUUID()} />
            <label for="draft-edit-text">Edit and send</label>
            <textarea id="draft-edit-text" name="text" maxlength={1600} required>
              {pending.draftText}
            </textarea>
            <div>
              <button id="draft-edit" type="submit">
                Send edited
              </button>
            </div>
          </ActionForm>
          <ActionForm c={c} action={`${base}/${pending.id}/reject`} class="stack">
            <input type="hidden" name="_key" value={randomUUID()} />
            <label for="draft-reject-reason">Reject (nothing is sent)</label>
            <input id="draft-reject-reason" name="reason" maxlength={500} required placeholder="Why?" />
            <div>
              <button id="draft-reject" type="submit" class="danger">
                Reject
              </button>
            </div>
          </ActionForm>
        </div>
      ) : (
        <p class="empty">No draft waiting.</p>
      )}
      {history.length > 0 && (
        <ul id="draft-history" class="draft-history">
          {history.map((d) => (
            <li data-outcome={d.outcome ?? 'pending'}>
              <span class={`badge ${d.outcome ?? ''}`}>{d.outcome ?? 'not sent'}</span>{' '}
              <span class="muted">
                {time(d.decidedAt ?? d.createdAt)}
                {d.decidedBy?.name ? ` · ${d.decidedBy.name}` : ''}
              </span>
              {d.reason && <span class="reason"> — {d.reason}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** A conversation view slot (src/api/console/slots.ts), registered in index.tsx. */
export const draftPanel: ConversationSlot = async ({ c, deps, conversation }) => (
  <Live
    id="draft-live"
    src={`/console/live/conversations/${conversation.id}/draft`}
    version={await draftsVersion(deps.db, conversation.id)}
  >
    <DraftPanelBody c={c} deps={deps} row={conversation} />
  </Live>
);

/** The panel's live endpoint and its three actions (CSRF checked by the session middleware). */
export function draftPages(app: Hono<ConsoleEnv>, deps: AppDeps) {
  const actions = draftActions(serviceContext(deps));
  const visible = async (c: ConsoleContext) => {
    try {
      return await actions.load(c.get('operator'), c.req.param('id') ?? '');
    } catch (error) {
      if (asApiError(error)?.code === 'not_found') return null;
      throw error;
    }
  };

  app.get('/live/conversations/:id/draft', async (c) => {
    const row = await visible(c);
    if (!row) return c.text('not found', 404);
    return liveFragment(
      c,
      () => draftsVersion(deps.db, row.id),
      () => <DraftPanelBody c={c} deps={deps} row={row} />,
    );
  });

  const act = (
    name: 'approve' | 'edit' | 'reject',
    run: (
      operator: Operator,
      row: ConversationRow,
      draftId: string,
      form: Record<string, string>,
      key: string,
    ) => Promise<string>,
  ) =>
    app.post(`/conversations/:id/drafts/:draftId/${name}`, async (c) => {
      const row = await visible(c);
      if (!row) return notFoundPage(c, 'conversation');
      const form = c.get('form');
      const key = /^[\w.:-]{1,128}$/.test(form._key ?? '') ? form._key! : randomUUID();
      const back = `/console/conversations/${row.id}`;
      try {
        return done(c, back, 'ok', await run(c.get('operator'), row, c.req.param('draftId') ?? '', form, key));
      } catch (error) {
        const refused = asApiError(error);
        if (refused && refused.code !== 'internal') {
          c.get('log').info({ action: `draft-${name}`, code: refused.code }, 'console action refused');
          return done(c, back, 'error', refused.message);
        }
        throw error;
      }
    });

  act('approve', async (operator, row, draftId, _form, key) => {
    await actions.approve(operator, row, draftId, key);
    return 'Draft sent as is.';
  });
  act('edit', async (operator, row, draftId, form, key) => {
    const text = (form.text ?? '').trim();
    if (!text || text.length > 1600) throw new ApiError('bad_request', 'Write a reply of 1 to 1600 characters.');
    await actions.edit(operator, row, draftId, text, key);
    return 'Edited draft sent.';
  });
  act('reject', async (operator, row, draftId, form, key) => {
    const reason = (form.reason ?? '').trim();
    if (!reason || reason.length > 500) throw new ApiError('bad_request', 'Say why the draft is rejected.');
    await actions.reject(operator, row, draftId, reason, key);
    return 'Draft rejected; nothing was sent.';
  });
}
