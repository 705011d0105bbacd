import { and, eq, sql } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType, type Channel, type TraceContext } from '../contract';
import type { DbOrTx } from '../db/client';
import { conversations, messages, outbox, tenants } from '../db/schema';
import { loadMessageTemplate } from '../db/templates';
import { findTenantSender } from '../db/tenants';
import { renderTemplate, type SystemTemplateKey } from '../domain/templates';
import { parseAddress } from '../domain/address';
import { childSpan } from '../domain/trace';
import { TwilioSendError } from '../integrations/twilio-gateway';
import type { ActivityDeps } from './deps';
import { applyParkedStatuses } from '../db/delivery-status';
import { recordEvents, type EventInput } from '../db/events';
import { markOptedOut } from '../db/opt-out';

export interface SendMessageInput {
  /** Deterministic, from business ids: the same logical send always maps to the same outbox row. */
  idempotencyKey: string;
  tenantId: string;
  conversationId: string | null;
  contactId: string;
  channel: Channel;
  /** Tenant's Twilio address (sender) and the customer's address. */
  from: string;
  to: string;
  /** The text, or a system template rendered in the tenant's locale. */
  body?: string;
  /** A system template (SystemTemplateKey) or a campaign's own template key, rendered in the tenant's locale. */
  template?: { key: SystemTemplateKey | (string & Record<never, never>); variables?: Record<string, string> };
  sentBy: 'ai' | 'agent' | 'system';
  /** Agent messages go out under the agent's name and keep the agent's id. */
  author?: { id: string; name: string };
  /** Send only if the conversation is still at this version (a takeover or close in between cancels it). */
  guard?: { expectedVersion: number };
  correlationId: string;
  trace: TraceContext;
  /** Campaign sends: the target the message belongs to (delivery callbacks and replies find it through this). */
  campaignTargetId?: string;
  /** Event type recorded when Twilio accepted the message. */
  sentEvent?: 'reply.sent' | 'campaign.send';
}

export type SendMessageResult =
  | { skipped: false; messageId: string; providerSid: string | null; status: string }
  | { skipped: true; reason: 'stale_version'; currentVersion: number }
  | { skipped: true; reason: 'precondition'; detail: string };

/** Business steps that must commit atomically with the outbox's own writes (campaign target bookkeeping). */
export interface SendHooks {
  /** Runs in the transaction that creates the outbox row; a string refuses the send with that reason. */
  claim?: (tx: DbOrTx, messageId: string) => Promise<string | null>;
  /** Awaited right before the message goes out (Twilio call or simulated): where a campaign send waits for its slot. */
  beforeCall?: () => Promise<void>;
  /** Runs in the transaction that stores the SID (also for simulated and adopted sends). */
  onAccepted?: (tx: DbOrTx, sent: { messageId: string; sid: string | null; status: string }) => Promise<void>;
  /** Runs in the transaction that records a permanent Twilio error. */
  onPermanentFailure?: (tx: DbOrTx, failure: { messageId: string; code: string | null; reason: string }) => Promise<void>;
}

interface ResolvedContent {
  body: string;
  /** WhatsApp Content API template (C3): required for business-initiated messages outside the 24 h window. */
  content: { sid: string; variables: Record<string, string> } | null;
}

/** How far back an in-doubt send is looked for at Twilio before sending again. */
const IN_DOUBT_WINDOW_MS = 10 * 60_000;
/**
 * A row `sending` for less than this (above the Twilio client's 15 s timeout), with no outcome recorded, may still
 * be in flight in another worker: looking it up at Twilio now could miss it and send twice, so this attempt waits.
 */
const IN_FLIGHT_GRACE_MS = 20_000;
const IN_DOUBT = 'in_doubt';

/** The idempotent outbound sender (I10), shared by the sendMessage activity and campaign send batches. */
export function createOutboundSender(deps: ActivityDeps) {
  const { db } = deps;

  /** Stores the SID and the sent event in one transaction, then applies callbacks that came first. */
  async function finish(tenantId: string, outboxId: string, messageId: string, sid: string | null, status: string, event: EventInput, hooks: SendHooks) {
    await db.transaction(async (tx) => {
      await recordEvents(tx, [event]);
      await tx.update(outbox).set({ status: status === 'simulated' ? 'simulated' : 'sent', providerSid: sid, sentAt: sql`now()`, updatedAt: sql`now()` }).where(eq(outbox.id, outboxId));
      await tx.update(messages).set({ providerSid: sid, status, statusUpdatedAt: sql`now()` }).where(eq(messages.id, messageId));
      await hooks.onAccepted?.(tx, { messageId, sid, status });
      if (sid) await applyParkedStatuses(tx, tenantId, sid);
    });
  }

  /** The text as stored with the outbound message: a retry sends exactly what the first attempt recorded. */
  async function currentBody(messageId: string): Promise<string> {
    const [row] = await db.select({ body: messages.body }).from(messages).where(eq(messages.id, messageId));
    return row!.body;
  }

  async function resolveContent(tx: DbOrTx, input: SendMessageInput): Promise<ResolvedContent> {
    let text = input.body;
    let content: ResolvedContent['content'] = null;
    if (input.template) {
      const [tenant] = await tx.select({ locale: tenants.locale }).from(tenants).where(eq(tenants.id, input.tenantId));
      const template = await loadMessageTemplate(tx, input.tenantId, input.template.key, tenant?.locale ?? 'en');
      if (!template) throw ApplicationFailure.create({ type: FailureType.NotFound, message: `no message template ${input.template.key}`, nonRetryable: true });
      text = renderTemplate(template.body, input.template.variables);
      if (template.contentSid && input.channel === 'whatsapp') {
        // Content API variables are positional ({{1}}, {{2}}…): the template maps each position to a variable name.
        const variables = Object.fromEntries(Object.entries(template.contentVariables ?? {}).map(([position, name]) => [position, input.template?.variables?.[name] ?? '']));
        content = { sid: template.contentSid, variables };
      }
    }
    if (!text) throw ApplicationFailure.create({ type: FailureType.NotFound, message: 'nothing to send: neither body nor template', nonRetryable: true });
    return { body: input.author && input.sentBy === 'agent' ? `${input.author.name}: ${text}` : text, content };
  }

  /**
   * Idempotent send (I10): the outbox row (keyed by `idempotencyKey`) and the outbound message are written
   * before Twilio is called, the SID right after. A retry finds a finished row and returns it; a row left
   * `sending` by a crash is first looked up at Twilio, so an accepted message is adopted, not sent twice.
   */
  async function send(input: SendMessageInput, hooks: SendHooks = {}): Promise<SendMessageResult> {
      const span = childSpan(input.trace);
      let resolved: ResolvedContent | null = null;
      const row = await db.transaction(async (tx) => {
        const [existing] = await tx.select().from(outbox).where(eq(outbox.idempotencyKey, input.idempotencyKey));
        if (existing) return existing;
        if (input.guard && input.conversationId) {
          // Row lock: a concurrent transition waits for this send's outbox row, or this send sees its new version.
          const [conversation] = await tx.select({ version: conversations.version }).from(conversations).where(eq(conversations.id, input.conversationId)).for('update');
          if (conversation && conversation.version !== input.guard.expectedVersion) return { stale: conversation.version };
        }
        resolved = await resolveContent(tx, input);
        const body = resolved.body;
        const [message] = await tx.insert(messages).values({
          tenantId: input.tenantId, conversationId: input.conversationId, contactId: input.contactId, direction: 'outbound',
          channel: input.channel, fromAddress: input.from, toAddress: input.to, body, sentBy: input.sentBy, authorId: input.author?.id ?? null,
          status: 'pending', correlationId: input.correlationId, traceId: input.trace.traceId, spanId: span.spanId, parentSpanId: span.parentId,
          campaignTargetId: input.campaignTargetId ?? null,
        }).returning({ id: messages.id });
        const refused = hooks.claim ? await hooks.claim(tx, message!.id) : null;
        if (refused) {
          // Nothing of this attempt may remain: the message row goes, the outbox row was never written.
          await tx.delete(messages).where(eq(messages.id, message!.id));
          return { refused };
        }
        const [created] = await tx.insert(outbox).values({ tenantId: input.tenantId, idempotencyKey: input.idempotencyKey, messageId: message!.id }).returning();
        return { ...created!, body };
      });
      if ('refused' in row && typeof row.refused === 'string') return { skipped: true, reason: 'precondition', detail: row.refused };
      if ('stale' in row && typeof row.stale === 'number') {
        await recordEvents(db, [{ trace: span, type: 'reply.discarded', tenantId: input.tenantId, contactId: input.contactId, conversationId: input.conversationId, payload: { reason: 'stale_version', expected: input.guard?.expectedVersion, current: row.stale, sentBy: input.sentBy } }]);
        return { skipped: true, reason: 'stale_version', currentVersion: row.stale };
      }
      const done = (providerSid: string | null, status: string): SendMessageResult => ({ skipped: false, messageId: row.messageId, providerSid, status });
      if (row.status === 'sent' || row.status === 'simulated') return done(row.providerSid, row.status);
      if (row.status === 'failed') throw ApplicationFailure.create({ type: FailureType.TwilioPermanent, message: `send failed earlier (${row.lastErrorCode ?? 'unknown'})`, nonRetryable: true });

      const sender = parseAddress(input.from);
      const number = sender && (await findTenantSender(db, input.tenantId, sender.channel, sender.phone));
      if (!number) throw ApplicationFailure.create({ type: FailureType.NotFound, message: 'sender number does not belong to the tenant', nonRetryable: true });
      const credentials = { accountSid: number.accountSid, authToken: number.authToken };
      const eventBase = { tenantId: input.tenantId, contactId: input.contactId, conversationId: input.conversationId, messageId: row.messageId };
      const sentEvent = input.sentEvent ?? 'reply.sent';

      if (number.mode === 'simulated') {
        await hooks.beforeCall?.();
        await finish(input.tenantId, row.id, row.messageId, null, 'simulated', { ...eventBase, trace: span, type: sentEvent, payload: { status: 'simulated', sentBy: input.sentBy } }, hooks);
        return done(null, 'simulated');
      }

      // A retry re-sends exactly what the first attempt recorded (the template is re-resolved only for its ContentSid).
      const body = 'body' in row && typeof row.body === 'string' ? row.body : await currentBody(row.messageId);
      const content = (resolved as ResolvedContent | null)?.content ?? (input.template ? (await resolveContent(db, input)).content : null);
      if (row.status === 'sending' && row.lastError !== IN_DOUBT && Date.now() - row.updatedAt.getTime() < IN_FLIGHT_GRACE_MS) {
        throw ApplicationFailure.create({ type: FailureType.TwilioRetryable, message: 'another attempt of this send may still be in flight; retrying later' });
      }
      if (row.status === 'sending') {
        const since = new Date(row.updatedAt.getTime() - IN_DOUBT_WINDOW_MS);
        // Twilio renders a Content template itself, so its body cannot be compared: the one send to this contact
        // in the window is ours (one business-initiated template per target attempt).
        const found = (await deps.twilio.recent(credentials, { from: input.from, to: input.to, since })).find((m) => content !== null || m.body === body);
        if (found) {
          await finish(input.tenantId, row.id, row.messageId, found.sid, found.status, { ...eventBase, trace: span, type: sentEvent, payload: { providerSid: found.sid, status: found.status, adopted: true } }, hooks);
          return done(found.sid, found.status);
        }
      }

      // Compare-and-set: of two attempts that read the same row, only one goes on to call Twilio.
      const [mine] = await db.update(outbox).set({ status: 'sending', attempts: sql`${outbox.attempts} + 1`, lastError: null, updatedAt: sql`now()` })
        .where(and(eq(outbox.id, row.id), eq(outbox.status, row.status), eq(outbox.attempts, row.attempts))).returning({ id: outbox.id });
      if (!mine) throw ApplicationFailure.create({ type: FailureType.TwilioRetryable, message: 'this send is being attempted concurrently; retrying later' });
      try {
        await hooks.beforeCall?.();
        const sent = await deps.twilio.send(credentials, {
          from: input.from, to: input.to, statusCallback: `${deps.config.publicBaseUrl}/webhooks/twilio/status`,
          ...(content ? { contentSid: content.sid, contentVariables: content.variables } : { body }),
        });
        await finish(input.tenantId, row.id, row.messageId, sent.sid, sent.status, { ...eventBase, trace: span, type: sentEvent, payload: { providerSid: sent.sid, status: sent.status, sentBy: input.sentBy, ...(content ? { contentSid: content.sid } : {}) } }, hooks);
        return done(sent.sid, sent.status);
      } catch (error) {
        if (!(error instanceof TwilioSendError)) throw error;
        const code = error.code?.toString() ?? null;
        if (error.classification.kind === 'permanent') {
          const reason = error.classification.reason;
          await db.transaction(async (tx) => {
            await tx.update(outbox).set({ status: 'failed', lastErrorCode: code, lastError: reason, updatedAt: sql`now()` }).where(eq(outbox.id, row.id));
            await tx.update(messages).set({ status: 'failed', errorCode: code, errorMessage: reason, statusUpdatedAt: sql`now()` }).where(eq(messages.id, row.messageId));
            // I12: Twilio says the recipient unsubscribed (21610): the contact is opted out for every campaign.
            if (reason === 'opted_out') await markOptedOut(tx, input.contactId, 'twilio_21610');
            await hooks.onPermanentFailure?.(tx, { messageId: row.messageId, code, reason });
            await recordEvents(tx, [{ ...eventBase, trace: span, type: 'reply.failed', level: 'warn', payload: { code, reason } }]);
          });
          throw ApplicationFailure.create({ type: FailureType.TwilioPermanent, message: error.message, nonRetryable: true, details: [{ code, reason }], cause: error });
        }
        // A definite answer from Twilio means nothing was sent: back to pending. A network error stays in doubt.
        // A network error leaves it in doubt (Twilio may have it): marked, so the next attempt looks it up at once.
        await db.update(outbox).set(error.status !== undefined
          ? { status: 'pending', lastErrorCode: code, lastError: error.classification.reason, updatedAt: sql`now()` }
          : { lastError: IN_DOUBT, updatedAt: sql`now()` }).where(eq(outbox.id, row.id));
        throw ApplicationFailure.create({ type: FailureType.TwilioRetryable, message: error.message, cause: error });
      }
  }

  return { send };
}

export function createMessagingActivities(deps: ActivityDeps) {
  const sender = createOutboundSender(deps);
  return {
    /** The conversation's sends (replies, system messages, agent messages); see createOutboundSender. */
    async sendMessage(input: SendMessageInput): Promise<SendMessageResult> {
      return sender.send(input);
    },
  };
}
