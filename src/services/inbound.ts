import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import {
  BUILT_IN_PATCHES,
  campaignWorkflowId,
  conversationWorkflowId,
  customerMessageSignal,
  searchAttributes,
  targetsChangedSignal,
  workflowType,
  type CustomerMessage,
  type InboundInput,
  type Workflows,
} from '../contract';
import { parseAddress } from '../domain/address';
import { resolveContactIdentity } from '../db/contacts/identity';
import { findTypingSender } from '../db/tenants/tenants';
import type { TwilioCredentials } from '../integrations/twilio-gateway';
import { contactHash } from '../domain/contact-hash';
import { childSpan } from '../domain/trace';
import type { ServiceContext } from './context';
import { ServiceError } from './errors';
import { recordEvents } from '../db/events/events';
import { markOptedIn, markOptedOut } from '../db/contacts/opt-out';
import { createOutboundSender } from './outbound/sender';
import type {
  RecordedInbound,
  ReceivedInbound,
  DeliverInput,
  KeywordInput,
  InboundFailureInput,
} from '../contract/pipeline';
import {
  recordInbound as recordInboundRow,
  recordInboundFailure as recordInboundFailureRows,
  tenantHashKey,
} from '../db/ingress/inbound';
import { classifyKeyword } from '../domain/opt-out';

/**
 * Issue 25 A: the inbound statement opens the contact's conversation unless one of its conversations ended within
 * the NPS wait and this margin: a run may still be alive then (asking NPS, finishing its handlers), and a row opened
 * beside it would be one no run adopts. Such messages leave the opening to the workflow, as before.
 */
const RECENT_CLOSE_MARGIN_MS = 15 * 60_000;

/*
 * Receiving a customer message (issue 19 A): record it with its contact and events, apply a STOP/START keyword,
 * hand the rest to the contact's conversation by signal-with-start. The inbound workflow runs these through the
 * activities (src/activities/inbound.ts), which turn a ServiceError into the failure Temporal must not retry.
 * Database and Temporal errors pass through as they are: the activities' interceptor types the former, the latter
 * are retried.
 */
export function createInboundService(deps: ServiceContext) {
  const sender = createOutboundSender(deps);
  const typingSenders = new Map<string, { value: TwilioCredentials | null; until: number }>();

  /**
   * Issue 22 E: WhatsApp's "typing…" for a customer message that starts (or joins) a turn, fired from the inbound
   * step and never awaited: it cannot delay or fail the reply. The tenant's setting and account are cached for 30 s
   * so the steady state costs no query; Twilio's answer (or its absence within 3 s) is only logged.
   */
  function showTyping(input: InboundInput) {
    const to = parseAddress(input.to);
    if (input.channel !== 'whatsapp' || !to) return;
    const key = `${input.tenantId}:${to.phone}`;
    void (async () => {
      let cached = typingSenders.get(key);
      if (!cached || cached.until < Date.now()) {
        cached = { value: await findTypingSender(deps.db, input.tenantId, to.phone), until: Date.now() + 30_000 };
        typingSenders.set(key, cached);
      }
      if (cached.value) await deps.twilio.typing(cached.value, input.messageSid);
    })().catch((error: unknown) =>
      deps.log.warn(
        // The error itself: the logger's serializer (safeError) keeps a failed query's bound phone number out.
        { err: error, messageSid: input.messageSid },
        'typing indicator not shown',
      ),
    );
  }

  async function record(input: InboundInput, routeTo: string | null) {
    const customer = parseAddress(input.from);
    if (!customer) throw new ServiceError('not_found', 'sender is not a phone address');
    const hashKey = await tenantHashKey(deps.db, input.tenantId);
    if (!hashKey) throw new ServiceError('not_found', 'tenant not found');
    // Issue 22 A: with a BSUID (From, or ExternalUserIdentifier beside a phone) the contact is resolved by identity
    // first; its stored key and conversation hash are used, so a phone shared later keeps one history.
    const bsuid = customer.bsuid ? customer.phone : (input.bsuid ?? null);
    const identity = bsuid
      ? await resolveContactIdentity(deps.db, {
          tenantId: input.tenantId,
          phone: customer.bsuid ? null : customer.phone,
          bsuid,
          hashOf: (key) => contactHash(hashKey, key),
        })
      : { key: customer.phone, hash: contactHash(hashKey, customer.phone) };
    const hash = identity.hash;
    const storedSpan = childSpan(input.trace);
    const routedTrace = routeTo ? childSpan(input.trace) : null;
    const row = await recordInboundRow(deps.db, {
      tenantId: input.tenantId,
      channel: input.channel,
      messageSid: input.messageSid,
      from: input.from,
      to: input.to,
      phone: identity.key,
      phoneHash: hash,
      profileName: input.profileName,
      body: input.body,
      media: input.media,
      receivedAt: input.receivedAt,
      originalRepliedMessageSid: input.originalRepliedMessageSid ?? null,
      trace: input.trace,
      storedSpan,
      webhookPayload: {
        messageSid: input.messageSid,
        channel: input.channel,
        numMedia: input.media.length,
        ...(input.normalizedFields?.length ? { normalizedFields: input.normalizedFields } : {}),
      },
      routed:
        routeTo && routedTrace
          ? {
              workflowId: conversationWorkflowId(routeTo, hash),
              trace: routedTrace,
              openUnlessClosedWithinMs: deps.config.timing.npsWaitMs + RECENT_CLOSE_MARGIN_MS,
            }
          : null,
    });
    if (routeTo && !row.alreadyHandled) showTyping(input);
    return {
      messageId: row.messageId,
      contactId: row.contactId,
      contactHash: hash,
      alreadyHandled: row.alreadyHandled,
      causalTraceId: row.causalTraceId,
      conversation: row.conversation,
      conversationCreated: row.conversationCreated,
      routedTrace: routedTrace && { ...routedTrace, causalTraceId: row.causalTraceId },
    };
  }

  /**
   * Hands the message to the contact's conversation workflow; returns its id. Signal-with-start, unless the inbound
   * statement has just opened the conversation (`opened`) and this process runs a worker: then no run can be waiting
   * for it (the statement opens none while an ended conversation's run may still be alive), so the run is started
   * with the message in its input and eager start, and the server returns its first task in the start's response
   * to this worker, not through matching (issue 25 A: the new conversation's extra hop). A run that exists after all
   * (a race with another message, a run still finishing) refuses the start, and the message goes by
   * signal-with-start as always; the run ignores a message id it has seen, so a retry of this step is harmless.
   */
  async function signalConversation(input: DeliverInput, opened = false): Promise<string> {
    const workflowId = conversationWorkflowId(input.tenantSlug, input.contactHash);
    const options = {
      workflowId,
      taskQueue: deps.temporal.taskQueue,
      typedSearchAttributes: [
        { key: searchAttributes.TENANT, value: input.tenantSlug },
        { key: searchAttributes.CONVERSATION_STATUS, value: 'PENDING' },
      ],
      staticSummary: `Conversation of contact ${input.contactHash.slice(0, 8)} (${input.channel}) for ${input.tenantSlug}`,
    };
    const args = {
      tenantId: input.tenantId,
      tenantSlug: input.tenantSlug,
      contactId: input.contactId,
      channel: input.channel,
      timing: deps.config.timing,
      builtInPatches: BUILT_IN_PATCHES.conversationWorkflow,
    };
    if (opened && deps.temporal.eager) {
      try {
        await deps.temporal.eager.workflow.start<Workflows['conversationWorkflow']>(workflowType.conversationWorkflow, {
          ...options,
          args: [{ ...args, first: input.message }],
          requestEagerStart: true,
        });
        return workflowId;
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    }
    await deps.temporal.client.workflow.signalWithStart<Workflows['conversationWorkflow'], [CustomerMessage]>(
      workflowType.conversationWorkflow,
      { ...options, args: [args], signal: customerMessageSignal, signalArgs: [input.message] },
    );
    return workflowId;
  }

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
     * Stores the inbound message once (unique tenant + MessageSid) with its contact and events
     * (src/db/ingress/inbound.ts).
     * The MessageSid doubles as the correlation id (seed 000): the AI result and the reply reuse it.
     */
    async recordInbound(input: InboundInput): Promise<RecordedInbound> {
      const { routedTrace: _, conversation: __, conversationCreated: ___, ...recorded } = await record(input, null);
      return recorded;
    },

    /**
     * The inbound workflow's one step (issue 14): stores the message (one statement, its events included) and, unless
     * it is a STOP/START keyword or already handled, hands it to its conversation by signal-with-start. Safe to run
     * twice: the insert is idempotent and the conversation ignores a message id it has seen.
     */
    async receiveInbound(input: InboundInput): Promise<ReceivedInbound> {
      const keyword = classifyKeyword(input.body);
      const routes = keyword !== 'stop' && keyword !== 'start';
      const { routedTrace, conversation, conversationCreated, ...recorded } = await record(
        input,
        routes ? input.tenantSlug : null,
      );
      const base = { ...recorded, keyword: routes ? null : keyword, conversationWorkflowId: null };
      if (recorded.alreadyHandled || !routes) return base;
      const workflowId = await signalConversation(
        {
          tenantId: input.tenantId,
          tenantSlug: input.tenantSlug,
          contactId: recorded.contactId,
          contactHash: recorded.contactHash,
          channel: input.channel,
          message: {
            messageId: recorded.messageId,
            correlationId: input.messageSid,
            receivedAt: input.receivedAt,
            tenantAddress: input.to,
            customerAddress: input.from,
            trace: routedTrace!,
            ...(conversation ? { conversation } : {}),
          },
        },
        conversationCreated,
      );
      return { ...base, conversationWorkflowId: workflowId };
    },

    /** Hands the message to its conversation, starting the conversation workflow if none is running. */
    async deliverToConversation(input: DeliverInput): Promise<{ workflowId: string }> {
      const workflowId = await signalConversation(input);
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
    recordInboundFailure: (input: InboundFailureInput): Promise<{ recorded: boolean }> =>
      recordInboundFailureRows(deps.db, input),
  };
}
