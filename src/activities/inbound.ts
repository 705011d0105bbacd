import { and, desc, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/activity';
import {
  campaignWorkflowId,
  conversationWorkflowId,
  customerMessageSignal,
  FailureType,
  searchAttributes,
  targetsChangedSignal,
  type Channel,
  type CustomerMessage,
  type InboundInput,
} from '../contract';
import { contacts, inboundFailures, messages, tenants } from '../db/schema';
import { raiseAlerts } from '../db/alerts';
import { parseAddress } from '../domain/address';
import { contactHash } from '../domain/contact-hash';
import { childSpan } from '../domain/trace';
import type { ActivityDeps } from './deps';
import { recordEvents } from '../db/events';
import { applyTargetEvent } from '../db/campaign-targets';
import { markOptedIn, markOptedOut } from '../db/opt-out';
import { createOutboundSender } from './messaging';

/** How long after a business-initiated message a customer's message still counts as its consequence. */
export const CAUSAL_WINDOW_MS = 72 * 3_600_000;

export interface RecordedInbound {
  messageId: string;
  contactId: string;
  contactHash: string;
  /** The message was already taken by a conversation: a late duplicate, nothing more to do. */
  alreadyHandled: boolean;
  /** T3: the trace of the outbound message this one replies to (Twilio's OriginalRepliedMessageSid). */
  causalTraceId: string | null;
}

export interface DeliverInput {
  tenantId: string;
  tenantSlug: string;
  contactId: string;
  contactHash: string;
  channel: Channel;
  message: CustomerMessage;
}

export interface KeywordInput {
  keyword: 'stop' | 'start';
  tenantId: string;
  contactId: string;
  messageId: string;
  messageSid: string;
  channel: Channel;
  /** The tenant address the customer wrote to, and the customer's address: the confirmation goes back this way. */
  tenantAddress: string;
  customerAddress: string;
  trace: InboundInput['trace'];
}

export interface InboundFailureInput {
  input: InboundInput;
  stage: 'record' | 'keyword' | 'deliver';
  failureType: string;
  /** The failure's message (a SQLSTATE or a fixed text: see db-failures.ts), never message content. */
  reason: string;
}

export function createInboundActivities(deps: ActivityDeps) {
  const sender = createOutboundSender(deps);
  return {
    /**
     * I12: a STOP-family message opts the contact out of every campaign at once (open targets stop, running
     * campaigns are told); a START-family message opts back in. On WhatsApp a confirmation is sent; on SMS
     * Twilio's own opt-out handling answers the keyword (and would refuse our message to an opted-out number).
     */
    async applyKeyword(input: KeywordInput): Promise<{ campaignsNotified: number }> {
      const campaignIds = await deps.db.transaction(async (tx) => {
        const ids =
          input.keyword === 'stop'
            ? await markOptedOut(tx, input.contactId, 'keyword')
            : (await markOptedIn(tx, input.contactId), []);
        await recordEvents(tx, [
          {
            trace: childSpan(input.trace),
            type: input.keyword === 'stop' ? 'contact.opted_out' : 'contact.opted_in',
            tenantId: input.tenantId,
            contactId: input.contactId,
            messageId: input.messageId,
            payload: { source: 'keyword', campaigns: ids.length },
          },
        ]);
        return ids;
      });
      for (const id of campaignIds) {
        await deps.temporal.client.workflow
          .getHandle(campaignWorkflowId(id))
          .signal(targetsChangedSignal)
          .catch(() => undefined);
      }
      if (input.channel === 'whatsapp') {
        await sender.send({
          idempotencyKey: `keyword:${input.messageSid}`,
          tenantId: input.tenantId,
          conversationId: null,
          contactId: input.contactId,
          channel: input.channel,
          from: input.tenantAddress,
          to: input.customerAddress,
          template: { key: input.keyword === 'stop' ? 'opt_out_confirmation' : 'opt_in_confirmation' },
          sentBy: 'system',
          correlationId: input.messageSid,
          trace: childSpan(input.trace),
        });
      }
      return { campaignsNotified: campaignIds.length };
    },

    /**
     * Stores the inbound message once (unique tenant + MessageSid) with its contact, in one transaction.
     * The MessageSid doubles as the correlation id (seed 000): the AI result and the reply reuse it.
     */
    async recordInbound(input: InboundInput): Promise<RecordedInbound> {
      const customer = parseAddress(input.from);
      if (!customer)
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: 'sender is not a phone address',
          nonRetryable: true,
        });
      return deps.db.transaction(async (tx) => {
        const [tenant] = await tx
          .select({ hashKey: tenants.hashKey })
          .from(tenants)
          .where(eq(tenants.id, input.tenantId));
        if (!tenant)
          throw ApplicationFailure.create({
            type: FailureType.NotFound,
            message: 'tenant not found',
            nonRetryable: true,
          });
        const hash = contactHash(tenant.hashKey, customer.phone);
        const [contact] = await tx
          .insert(contacts)
          .values({ tenantId: input.tenantId, phone: customer.phone, phoneHash: hash, name: input.profileName })
          .onConflictDoUpdate({
            target: [contacts.tenantId, contacts.phone],
            set: { updatedAt: sql`now()`, name: sql`coalesce(excluded.name, ${contacts.name})` },
          })
          .returning({ id: contacts.id });
        // A reply to one of our messages starts a new trace that points at the trace that caused it (seed 001 §4B):
        // the message Twilio says it replies to, else our latest business-initiated message to this contact
        // (sent outside any conversation, as campaign and broadcast sends are) within CAUSAL_WINDOW_MS.
        const [replied] = input.originalRepliedMessageSid
          ? await tx
              .select({ traceId: messages.traceId, campaignTargetId: messages.campaignTargetId })
              .from(messages)
              .where(
                and(
                  eq(messages.tenantId, input.tenantId),
                  eq(messages.providerSid, input.originalRepliedMessageSid),
                  eq(messages.direction, 'outbound'),
                ),
              )
          : await tx
              .select({ traceId: messages.traceId, campaignTargetId: messages.campaignTargetId })
              .from(messages)
              .where(
                and(
                  eq(messages.contactId, contact!.id),
                  eq(messages.direction, 'outbound'),
                  isNull(messages.conversationId),
                  isNotNull(messages.traceId),
                  gt(messages.createdAt, new Date(Date.parse(input.receivedAt) - CAUSAL_WINDOW_MS)),
                ),
              )
              .orderBy(desc(messages.createdAt))
              .limit(1);
        const causalTraceId = replied?.traceId ?? input.trace.causalTraceId ?? null;
        const trace = { ...input.trace, causalTraceId };
        const stored = childSpan(trace);
        const [inserted] = await tx
          .insert(messages)
          .values({
            tenantId: input.tenantId,
            contactId: contact!.id,
            direction: 'inbound',
            channel: input.channel,
            providerSid: input.messageSid,
            fromAddress: input.from,
            toAddress: input.to,
            body: input.body,
            media: input.media,
            sentBy: 'customer',
            status: 'received',
            correlationId: input.messageSid,
            traceId: input.trace.traceId,
            spanId: stored.spanId,
            parentSpanId: input.trace.spanId,
            createdAt: new Date(input.receivedAt),
          })
          .onConflictDoNothing({ target: [messages.tenantId, messages.providerSid] })
          .returning({ id: messages.id });

        if (!inserted) {
          const [existing] = await tx
            .select({ id: messages.id, conversationId: messages.conversationId })
            .from(messages)
            .where(and(eq(messages.tenantId, input.tenantId), eq(messages.providerSid, input.messageSid)));
          return {
            messageId: existing!.id,
            contactId: contact!.id,
            contactHash: hash,
            alreadyHandled: existing!.conversationId !== null,
            causalTraceId,
          };
        }
        const common = { tenantId: input.tenantId, contactId: contact!.id, messageId: inserted.id };
        // A reply to a campaign message completes that target (C2: a reply is the best outcome a send can have).
        if (replied?.campaignTargetId) await applyTargetEvent(tx, replied.campaignTargetId, { kind: 'reply' });
        await recordEvents(tx, [
          {
            ...common,
            trace,
            type: 'webhook.received',
            occurredAt: new Date(input.receivedAt),
            payload: {
              messageSid: input.messageSid,
              channel: input.channel,
              numMedia: input.media.length,
              ...(input.normalizedFields?.length ? { normalizedFields: input.normalizedFields } : {}),
            },
          },
          {
            ...common,
            trace: stored,
            type: 'message.stored',
            payload: { direction: 'inbound', bodyLength: input.body.length },
          },
        ]);
        return {
          messageId: inserted.id,
          contactId: contact!.id,
          contactHash: hash,
          alreadyHandled: false,
          causalTraceId,
        };
      });
    },

    /** Hands the message to its conversation, starting the conversation workflow if none is running. */
    async deliverToConversation(input: DeliverInput): Promise<{ workflowId: string }> {
      const workflowId = conversationWorkflowId(input.tenantSlug, input.contactHash);
      await deps.temporal.client.workflow.signalWithStart('conversationWorkflow', {
        workflowId,
        taskQueue: deps.temporal.taskQueue,
        args: [
          {
            tenantId: input.tenantId,
            tenantSlug: input.tenantSlug,
            contactId: input.contactId,
            channel: input.channel,
            timing: deps.config.timing,
          },
        ],
        signal: customerMessageSignal,
        signalArgs: [input.message],
        typedSearchAttributes: [
          { key: searchAttributes.TENANT, value: input.tenantSlug },
          { key: searchAttributes.CONVERSATION_STATUS, value: 'PENDING' },
        ],
        staticSummary: `Conversation of contact ${input.contactHash.slice(0, 8)} (${input.channel}) for ${input.tenantSlug}`,
      });
      await recordEvents(deps.db, [
        {
          trace: input.message.trace,
          type: 'message.routed',
          tenantId: input.tenantId,
          contactId: input.contactId,
          messageId: input.message.messageId,
          payload: { workflowId },
        },
      ]);
      return { workflowId };
    },

    /**
     * D: the recorded `failed` outcome of an acknowledged message whose handling cannot succeed. The message is
     * kept whole in inbound_failures (as escaped JSON text, which can hold what Postgres refused), its messages
     * row (if it was stored) is marked failed so no prompt or view treats it as handled, and supervisors get an
     * `inbound_failed` alert. Idempotent per MessageSid.
     */
    async recordInboundFailure({
      input,
      stage,
      failureType,
      reason,
    }: InboundFailureInput): Promise<{ recorded: boolean }> {
      return deps.db.transaction(async (tx) => {
        const [tenant] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, input.tenantId));
        const [message] = await tx
          .select({ id: messages.id, contactId: messages.contactId })
          .from(messages)
          .where(and(eq(messages.tenantId, input.tenantId), eq(messages.providerSid, input.messageSid)));
        const [row] = await tx
          .insert(inboundFailures)
          .values({
            tenantId: input.tenantId,
            messageSid: input.messageSid,
            stage,
            failureType,
            reason,
            messageId: message?.id ?? null,
            input: JSON.stringify(input),
          })
          .onConflictDoNothing({ target: inboundFailures.messageSid })
          .returning({ id: inboundFailures.id });
        if (!row) return { recorded: false };
        if (message) {
          await tx
            .update(messages)
            .set({ status: 'failed', errorCode: failureType, errorMessage: reason, statusUpdatedAt: sql`now()` })
            .where(eq(messages.id, message.id));
        }
        // Alerts and events belong to a tenant; a message for a tenant that no longer exists keeps only its row.
        if (tenant) {
          await raiseAlerts(tx, [
            {
              tenantId: input.tenantId,
              type: 'inbound_failed',
              severity: 'high',
              message: `An inbound ${input.channel} message could not be handled (${stage}: ${failureType}); it is kept in inbound_failures`,
              payload: { messageSid: input.messageSid, stage, failureType, inboundFailureId: row.id },
            },
          ]);
          await recordEvents(tx, [
            {
              trace: childSpan(input.trace),
              type: 'inbound.failed',
              level: 'error',
              tenantId: input.tenantId,
              contactId: message?.contactId,
              messageId: message?.id,
              payload: { messageSid: input.messageSid, stage, failureType },
            },
          ]);
        }
        return { recorded: true };
      });
    },
  };
}
