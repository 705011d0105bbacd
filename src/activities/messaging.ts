import { eq, sql } from 'drizzle-orm';
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
  template?: { key: SystemTemplateKey; variables?: Record<string, string> };
  sentBy: 'ai' | 'agent' | 'system';
  /** Agent messages go out under the agent's name and keep the agent's id. */
  author?: { id: string; name: string };
  /** Send only if the conversation is still at this version (a takeover or close in between cancels it). */
  guard?: { expectedVersion: number };
  correlationId: string;
  trace: TraceContext;
}

export type SendMessageResult =
  | { skipped: false; messageId: string; providerSid: string | null; status: string }
  | { skipped: true; reason: 'stale_version'; currentVersion: number };

/** How far back an in-doubt send is looked for at Twilio before sending again. */
const IN_DOUBT_WINDOW_MS = 10 * 60_000;

export function createMessagingActivities(deps: ActivityDeps) {
  const { db } = deps;

  /** Stores the SID and the `reply.sent` event in one transaction, then applies callbacks that came first. */
  async function finish(tenantId: string, outboxId: string, messageId: string, sid: string | null, status: string, event: EventInput) {
    await db.transaction(async (tx) => {
      await recordEvents(tx, [event]);
      await tx.update(outbox).set({ status: status === 'simulated' ? 'simulated' : 'sent', providerSid: sid, sentAt: sql`now()`, updatedAt: sql`now()` }).where(eq(outbox.id, outboxId));
      await tx.update(messages).set({ providerSid: sid, status, statusUpdatedAt: sql`now()` }).where(eq(messages.id, messageId));
      if (sid) await applyParkedStatuses(tx, tenantId, sid);
    });
  }

  /** The text as stored with the outbound message: a retry sends exactly what the first attempt recorded. */
  async function currentBody(messageId: string): Promise<string> {
    const [row] = await db.select({ body: messages.body }).from(messages).where(eq(messages.id, messageId));
    return row!.body;
  }

  async function resolveBody(tx: DbOrTx, input: SendMessageInput): Promise<string> {
    let text = input.body;
    if (input.template) {
      const [tenant] = await tx.select({ locale: tenants.locale }).from(tenants).where(eq(tenants.id, input.tenantId));
      const template = await loadMessageTemplate(tx, input.tenantId, input.template.key, tenant?.locale ?? 'en');
      if (!template) throw ApplicationFailure.create({ type: FailureType.NotFound, message: `no message template ${input.template.key}`, nonRetryable: true });
      text = renderTemplate(template.body, input.template.variables);
    }
    if (!text) throw ApplicationFailure.create({ type: FailureType.NotFound, message: 'nothing to send: neither body nor template', nonRetryable: true });
    return input.author && input.sentBy === 'agent' ? `${input.author.name}: ${text}` : text;
  }

  return {
    /**
     * Idempotent send (I10): the outbox row (keyed by `idempotencyKey`) and the outbound message are written
     * before Twilio is called, the SID right after. A retry finds a finished row and returns it; a row left
     * `sending` by a crash is first looked up at Twilio, so an accepted message is adopted, not sent twice.
     */
    async sendMessage(input: SendMessageInput): Promise<SendMessageResult> {
      const span = childSpan(input.trace);
      const row = await db.transaction(async (tx) => {
        const [existing] = await tx.select().from(outbox).where(eq(outbox.idempotencyKey, input.idempotencyKey));
        if (existing) return existing;
        if (input.guard && input.conversationId) {
          // Row lock: a concurrent transition waits for this send's outbox row, or this send sees its new version.
          const [conversation] = await tx.select({ version: conversations.version }).from(conversations).where(eq(conversations.id, input.conversationId)).for('update');
          if (conversation && conversation.version !== input.guard.expectedVersion) return { stale: conversation.version };
        }
        const body = await resolveBody(tx, input);
        const [message] = await tx.insert(messages).values({
          tenantId: input.tenantId, conversationId: input.conversationId, contactId: input.contactId, direction: 'outbound',
          channel: input.channel, fromAddress: input.from, toAddress: input.to, body, sentBy: input.sentBy, authorId: input.author?.id ?? null,
          status: 'pending', correlationId: input.correlationId, traceId: input.trace.traceId, spanId: span.spanId, parentSpanId: span.parentId,
        }).returning({ id: messages.id });
        const [created] = await tx.insert(outbox).values({ tenantId: input.tenantId, idempotencyKey: input.idempotencyKey, messageId: message!.id }).returning();
        return { ...created!, body };
      });
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

      if (number.mode === 'simulated') {
        await finish(input.tenantId, row.id, row.messageId, null, 'simulated', { ...eventBase, trace: span, type: 'reply.sent', payload: { status: 'simulated', sentBy: input.sentBy } });
        return done(null, 'simulated');
      }

      if (row.status === 'sending') {
        const since = new Date(row.updatedAt.getTime() - IN_DOUBT_WINDOW_MS);
        const body = await currentBody(row.messageId);
        const found = (await deps.twilio.recent(credentials, { from: input.from, to: input.to, since })).find((m) => m.body === body);
        if (found) {
          await finish(input.tenantId, row.id, row.messageId, found.sid, found.status, { ...eventBase, trace: span, type: 'reply.sent', payload: { providerSid: found.sid, status: found.status, adopted: true } });
          return done(found.sid, found.status);
        }
      }

      await db.update(outbox).set({ status: 'sending', attempts: sql`${outbox.attempts} + 1`, updatedAt: sql`now()` }).where(eq(outbox.id, row.id));
      try {
        const sent = await deps.twilio.send(credentials, { from: input.from, to: input.to, body: await currentBody(row.messageId), statusCallback: `${deps.config.publicBaseUrl}/webhooks/twilio/status` });
        await finish(input.tenantId, row.id, row.messageId, sent.sid, sent.status, { ...eventBase, trace: span, type: 'reply.sent', payload: { providerSid: sent.sid, status: sent.status, sentBy: input.sentBy } });
        return done(sent.sid, sent.status);
      } catch (error) {
        if (!(error instanceof TwilioSendError)) throw error;
        const code = error.code?.toString() ?? null;
        if (error.classification.kind === 'permanent') {
          await db.transaction(async (tx) => {
            await tx.update(outbox).set({ status: 'failed', lastErrorCode: code, lastError: error.classification.reason, updatedAt: sql`now()` }).where(eq(outbox.id, row.id));
            await tx.update(messages).set({ status: 'failed', errorCode: code, errorMessage: error.classification.reason, statusUpdatedAt: sql`now()` }).where(eq(messages.id, row.messageId));
            await recordEvents(tx, [{ ...eventBase, trace: span, type: 'reply.failed', level: 'warn', payload: { code, reason: error.classification.reason } }]);
          });
          throw ApplicationFailure.create({ type: FailureType.TwilioPermanent, message: error.message, nonRetryable: true, details: [{ code, reason: error.classification.reason }], cause: error });
        }
        // A definite answer from Twilio means nothing was sent: back to pending. A network error stays in doubt.
        if (error.status !== undefined) {
          await db.update(outbox).set({ status: 'pending', lastErrorCode: code, lastError: error.classification.reason, updatedAt: sql`now()` }).where(eq(outbox.id, row.id));
        }
        throw ApplicationFailure.create({ type: FailureType.TwilioRetryable, message: error.message, cause: error });
      }
    },
  };

}
