// The idempotent outbound sender (I10): outbox row and message before the Twilio call, the SID right after, in-doubt
// sends looked up at Twilio before sending again. Used by the conversation's sendMessage activity, the keyword
// confirmation, promise reminders and campaign send batches (src/activities/*); its queries are in
// src/db/outbound/outbox.ts (the general path's statements at its end).
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type TraceContext } from '../../contract';
import type { DbOrTx } from '../../db/core/client';
import { loadMessageTemplate } from '../../db/knowledge/templates';
import { findTenantSender } from '../../db/tenants/tenants';
import { renderTemplate } from '../../domain/templates';
import { DEBT_TEMPLATE_KEYS, identityPrompt } from '../../domain/identity';
import { debtDisclosureAllowed } from '../../db/conversations/turn';
import { parseAddress } from '../../domain/address';
import { childSpan } from '../../domain/trace';
import { TwilioSendError } from '../../integrations/twilio-gateway';
import type { ServiceContext } from '../context';
import type { SendResult } from '../../observability/metrics';
import { applyParkedStatuses } from '../../db/ingress/delivery-status';
import {
  claimSendAttempt,
  contactOptedOutForShare,
  deleteRefusedMessage,
  findOutboxByKey,
  findRedeliverySource,
  insertOutboxRow,
  insertPendingOutboundMessage,
  insertSendingOutbound,
  loadSendContext,
  lockConversationVersion,
  markOutboundMessageFailed,
  markSendInDoubt,
  markSendRefused,
  markSendRetryPending,
  raiseWindowClosedAlert,
  recordSendAccepted,
  recordSendFailed,
  recordSendFinished,
  tenantLocale,
} from '../../db/outbound/outbox';
import { messageBody } from '../../db/conversations/conversation';
import { recordSendDecision, refuseRecordedDecision, type SendDecisionInsert } from '../../db/outbound/policy';
import { startRecordedRedelivery } from '../../temporal/start-redelivery';
import { recordEvents, type EventInput } from '../../db/events/events';
import { raiseAlerts } from '../../db/events/alerts';
import { markOptedOut } from '../../db/contacts/opt-out';
import { applyErrorEffects, raiseTemplateVariablesAlert } from '../../db/contacts/twilio-error-effects';
import { optOutOpenTargets, applyTargetEvent, setTargetLastMessage } from '../../db/campaigns/targets';
import { markOutageNotificationSent } from '../../db/campaigns/dispatch';
import { findContentTemplate, lastInboundAt } from '../../db/outbound/content-templates';
import { isBusinessInitiated, sendPurpose, windowOpen } from '../../domain/whatsapp-window';
import { checkTemplateVariables, describeTemplateProblems } from '../../domain/template-variables';
import type { AdvancedConversation, SendMessageInput, SendMessageResult } from '../../contract/pipeline';
import { createPolicyGate, stoppedBy } from './policy-gate';

/** Reason stored on the outbox row and message of a send refused for the WhatsApp window (no Twilio call). */
export const WINDOW_CLOSED = 'window_closed';

/** Reason stored on a template send refused before the call: a declared variable missing or blank (issue 22 C). */
export const TEMPLATE_VARIABLES = 'template_variables';

/** The failure such a send throws: non-retryable; names positions and variable names, never values. */
export function templateVariablesFailure(purpose: string, detail: string) {
  return ApplicationFailure.create({
    type: FailureType.TemplateVariables,
    nonRetryable: true,
    details: [{ reason: TEMPLATE_VARIABLES, purpose, detail }],
    message: `the WhatsApp template for "${purpose}" was not sent: ${detail}`,
  });
}

/** The failure a window_closed send throws: non-retryable, and recognised by callers and the operator API. */
export function windowClosedFailure(purpose: string) {
  return ApplicationFailure.create({
    type: FailureType.WindowClosed,
    nonRetryable: true,
    details: [{ reason: WINDOW_CLOSED, purpose }],
    message: `the WhatsApp 24-hour window is closed and no Content template is configured for "${purpose}" (causeway template set --purpose ${purpose})`,
  });
}

/** Business steps that must commit atomically with the outbox's own writes (campaign target bookkeeping). */
export interface SendHooks {
  /** Runs in the transaction that creates the outbox row; a string refuses the send with that reason. */
  claim?: (tx: DbOrTx, messageId: string) => Promise<string | null>;
  /** Awaited right before the message goes out (Twilio call or simulated): where a campaign send waits for its slot. */
  beforeCall?: () => Promise<void>;
  /**
   * Issue 25 C: the campaign target that takes its `accepted` step with the SID write, in the write's one statement
   * (recordSendAccepted), instead of an `onAccepted` transaction; `outageNotice` marks its outage notice sent too.
   * The call's callback URL then carries the message id, like a conversation send's: a callback that beats the SID
   * write takes the `accepted` step itself (src/db/ingress/delivery-status.ts) instead of parking.
   */
  acceptedTarget?: { targetId: string; outageNotice: boolean };
  /**
   * Issue 25 C: the `claim` hook is exactly this campaign target's claim (markTargetSending): a first attempt may
   * then take it in the statement that writes the message and its outbox row (insertSendingOutbound) instead of the
   * general path's transaction. `claim` must still be given: the general path runs it when the first attempt cannot.
   */
  claimTarget?: { targetId: string; attempt: number };
  /** Runs in the transaction that stores the SID (also for simulated and adopted sends). */
  onAccepted?: (tx: DbOrTx, sent: { messageId: string; sid: string | null; status: string }) => Promise<void>;
  /** Runs in the transaction that records a permanent Twilio error. */
  onPermanentFailure?: (
    tx: DbOrTx,
    failure: { messageId: string; code: string | null; reason: string },
  ) => Promise<void>;
}

interface ResolvedContent {
  body: string;
  /** WhatsApp Content API template (C3): required for business-initiated messages outside the 24 h window. */
  content: { sid: string; variables: Record<string, string> } | null;
  /** WhatsApp, outside the window, and no template for the purpose: the send fails without calling Twilio. */
  windowClosed: boolean;
  purpose: string;
  /** Named variables the Content template can use (kept with the outbox row for a resend). */
  variables: Record<string, string>;
  /** The template's declared variables are not all supplied (issue 22 C): refused before any Twilio call. */
  templateRefused: { contentSid: string; detail: string } | null;
}

/** How far back an in-doubt send is looked for at Twilio before sending again. */
const IN_DOUBT_WINDOW_MS = 10 * 60_000;
/**
 * A row `sending` for less than this (above the Twilio client's 15 s timeout), with no outcome recorded, may still
 * be in flight in another worker: looking it up at Twilio now could miss it and send twice, so this attempt waits.
 */
const IN_FLIGHT_GRACE_MS = 20_000;
const IN_DOUBT = 'in_doubt';
const OPTED_OUT = 'opted_out';

/**
 * The status callback URL carries the same connection overrides as the inbound webhook (`#rc=…&rp=…`), so Twilio
 * retries a callback that met a restart (5xx, timeout) instead of dropping it; reconciliation settles the rest.
 * Issue 25 A: `?m=<message id>` lets a callback that beats the SID write find its message (one statement, nothing
 * parked), and lets the SID write be one statement without the SID lock. Not for sends with an `onAccepted` hook
 * (a campaign target's resend): its hook must run before any status, which the parked path keeps in order. A
 * campaign send's `acceptedTarget` is taken by whichever comes first, the callback or the SID write (issue 25 C).
 */
const statusCallbackUrl = (config: ServiceContext['config'], messageId: string | null) =>
  `${config.publicBaseUrl}/webhooks/twilio/status${messageId ? `?m=${messageId}` : ''}${config.twilioConnectionOverrides ? `#${config.twilioConnectionOverrides}` : ''}`;

/** The idempotent outbound sender (I10), shared by the sendMessage activity and campaign send batches. */
export function createOutboundSender(deps: Omit<ServiceContext, 'ai'>) {
  const { db } = deps;
  const policy = createPolicyGate(deps);

  /** Stores the SID and the sent event in one transaction, then applies callbacks that came first. */
  async function finish(
    tenantId: string,
    outboxId: string,
    messageId: string,
    sid: string | null,
    status: string,
    event: EventInput,
    hooks: SendHooks,
    /** The callback URL of this call carried the message id (false: an adopted send of an earlier attempt). */
    callbackById = false,
  ) {
    const redeliveries = !hooks.onAccepted
      ? await recordSendAccepted(db, {
          tenantId,
          outboxId,
          messageId,
          sid,
          status,
          event,
          callbackById,
          target: hooks.acceptedTarget ?? null,
        })
      : await finishWithHooks(tenantId, outboxId, messageId, sid, status, event, hooks);
    // A failure callback that beat the SID (parked) may call for a resend: started here, as the webhook would.
    for (const r of redeliveries) {
      await startRecordedRedelivery(db, deps.temporal.client, deps.temporal.taskQueue, r, {
        backoffBaseMs: deps.config.deliveryRetryBackoffMs,
      }).catch((error: unknown) =>
        deps.log.warn({ err: error, mode: r.mode }, 'redelivery not started yet: left to the inbox drain'),
      );
    }
  }

  async function finishWithHooks(
    tenantId: string,
    outboxId: string,
    messageId: string,
    sid: string | null,
    status: string,
    event: EventInput,
    hooks: SendHooks,
  ) {
    return db.transaction(async (tx) => {
      await recordEvents(tx, [event]);
      await recordSendFinished(tx, { outboxId, messageId, sid, status });
      await hooks.onAccepted?.(tx, { messageId, sid, status });
      if (hooks.acceptedTarget) {
        await applyTargetEvent(tx, hooks.acceptedTarget.targetId, { kind: 'accepted', status });
        if (hooks.acceptedTarget.outageNotice) await markOutageNotificationSent(tx, hooks.acceptedTarget.targetId);
      }
      return sid ? applyParkedStatuses(tx, tenantId, sid) : [];
    });
  }

  /** The text as stored with the outbound message: a retry sends exactly what the first attempt recorded. */
  async function currentBody(messageId: string): Promise<string> {
    return (await messageBody(db, messageId))!;
  }

  /**
   * The text, and on WhatsApp the window decision (E): inside the window free text; outside it the purpose's
   * Content template (the tenant's `template set` first, else the message template's own ContentSid); with neither
   * the send is `windowClosed`. SMS has no window.
   */
  async function resolveContent(tx: DbOrTx, input: SendMessageInput): Promise<ResolvedContent> {
    let text = input.body;
    let builtIn: { contentSid: string | null; contentVariables: Record<string, string> | null } | null = null;
    // A resend has its text already; the message template of its purpose may still carry a ContentSid.
    const templateKey = input.template?.key ?? (input.resend && input.purpose ? input.purpose : null);
    if (templateKey) {
      const locale = await tenantLocale(tx, input.tenantId);
      const template = await loadMessageTemplate(tx, input.tenantId, templateKey, locale ?? 'en');
      if (!template && input.template)
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `no message template ${templateKey}`,
          nonRetryable: true,
        });
      if (template && input.template && !input.resend) text = renderTemplate(template.body, input.template.variables);
      builtIn = template;
    }
    const hasMedia = (input.mediaUrl?.length ?? 0) > 0;
    if (!text && !hasMedia)
      throw ApplicationFailure.create({
        type: FailureType.NotFound,
        message: 'nothing to send: neither body nor template',
        nonRetryable: true,
      });
    const purpose = sendPurpose(input);
    const variables = {
      ...input.variables,
      ...input.template?.variables,
      text: text ?? '',
      ...(input.author ? { agent_name: input.author.name } : {}),
    };
    const body =
      text && input.author && input.sentBy === 'agent' && !input.resend
        ? `${input.author.name}: ${text}`
        : (text ?? '');
    const base = { body, purpose, variables, content: null, windowClosed: false, templateRefused: null };
    if (input.channel !== 'whatsapp') return base;
    if (
      !input.resend?.requireTemplate &&
      windowOpen(
        await lastInboundAt(tx, input.contactId, 'whatsapp', input.from),
        deps.clock(),
        deps.config.whatsappWindowMs,
      )
    )
      return base;
    const configured = await findContentTemplate(tx, input.tenantId, purpose);
    const sid = configured?.contentSid ?? builtIn?.contentSid ?? null;
    // A Content template cannot carry our media (Twilio 63030): media outside the window is refused like no template.
    if (!sid || hasMedia) return { ...base, windowClosed: true };
    const checked = checkTemplateVariables(configured?.variables ?? builtIn?.contentVariables ?? {}, variables);
    if (!checked.ok)
      return { ...base, templateRefused: { contentSid: sid, detail: describeTemplateProblems(checked.problems) } };
    return { ...base, content: { sid, variables: checked.values } };
  }

  /** One open window_closed alert per tenant, purpose and conversation: a campaign of 10 000 does not raise 10 000. */
  async function alertWindowClosed(tx: DbOrTx, input: SendMessageInput, purpose: string) {
    await raiseWindowClosedAlert(tx, {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      purpose,
      severity: input.sentBy === 'agent' ? 'medium' : 'high',
      campaignTargetId: input.campaignTargetId ?? null,
    });
  }

  /**
   * A simulated tenant's send (nothing goes out) of an attempt that holds the row (`sending`): after the slot wait,
   * recorded `simulated` with its sent event. A throw from the wait (SendAborted) leaves the row `sending` without a
   * SID, as callTwilio does: the campaign abandons the attempt, or a retry's general path finishes it.
   */
  async function sendSimulated(
    input: SendMessageInput,
    hooks: SendHooks,
    row: { id: string; messageId: string; advanced?: AdvancedConversation | null },
    span: TraceContext,
    counted: (result: SendResult) => void,
  ): Promise<SendMessageResult> {
    await hooks.beforeCall?.();
    await finish(
      input.tenantId,
      row.id,
      row.messageId,
      null,
      'simulated',
      {
        tenantId: input.tenantId,
        contactId: input.contactId,
        conversationId: input.conversationId,
        messageId: row.messageId,
        trace: span,
        type: input.sentEvent ?? 'reply.sent',
        payload: { status: 'simulated', sentBy: input.sentBy },
      },
      hooks,
    );
    counted('simulated');
    return {
      skipped: false,
      messageId: row.messageId,
      providerSid: null,
      status: 'simulated',
      ...(row.advanced ? { advanced: row.advanced } : {}),
    };
  }

  /** The Twilio call of an attempt that holds the row (`sending`), and what its answer means for the row. */
  async function callTwilio(
    input: SendMessageInput,
    hooks: SendHooks,
    row: { id: string; messageId: string; advanced?: AdvancedConversation | null },
    credentials: { accountSid: string; authToken: string; messagingServiceSid?: string | null },
    body: string,
    content: { sid: string; variables: Record<string, string> } | null,
    span: TraceContext,
    counted: (result: SendResult) => void,
  ): Promise<SendMessageResult> {
    const eventBase = {
      tenantId: input.tenantId,
      contactId: input.contactId,
      conversationId: input.conversationId,
      messageId: row.messageId,
    };
    const sentEvent = input.sentEvent ?? 'reply.sent';
    const done = (providerSid: string | null, status: string): SendMessageResult => ({
      skipped: false,
      messageId: row.messageId,
      providerSid,
      status,
      ...(row.advanced ? { advanced: row.advanced } : {}),
    });
    try {
      await hooks.beforeCall?.();
      const sent = await deps.twilio.send(credentials, {
        from: input.from,
        // Issue 22 F: a tenant on a Messaging Service sends with MessagingServiceSid; Twilio picks the sender.
        messagingServiceSid: credentials.messagingServiceSid ?? null,
        to: input.to,
        statusCallback: statusCallbackUrl(deps.config, hooks.onAccepted ? null : row.messageId),
        ...(content
          ? { contentSid: content.sid, contentVariables: content.variables }
          : { body, ...(input.mediaUrl?.length ? { mediaUrl: input.mediaUrl } : {}) }),
      });
      counted('sent');
      await finish(
        input.tenantId,
        row.id,
        row.messageId,
        sent.sid,
        sent.status,
        {
          ...eventBase,
          trace: span,
          type: sentEvent,
          payload: {
            providerSid: sent.sid,
            status: sent.status,
            sentBy: input.sentBy,
            ...(content ? { contentSid: content.sid } : {}),
          },
        },
        hooks,
        true,
      );
      return done(sent.sid, sent.status);
    } catch (error) {
      if (!(error instanceof TwilioSendError)) throw error;
      const code = error.code?.toString() ?? null;
      if (error.classification.kind === 'permanent') {
        const reason = error.classification.reason;
        await db.transaction(async (tx) => {
          await recordSendFailed(tx, { outboxId: row.id, messageId: row.messageId, code, reason });
          // I12: Twilio says the recipient unsubscribed (21610): the contact is opted out for every campaign.
          if (reason === 'opted_out') await markOptedOut(tx, input.contactId, 'twilio_21610');
          // Issue 22 B: the error table's consequences (contact marked, admin alerted), as for a failed callback.
          await applyErrorEffects(tx, error.classification, {
            tenantId: input.tenantId,
            contactId: input.contactId,
            conversationId: input.conversationId,
            messageId: row.messageId,
            channel: input.channel,
            code,
            purpose: sendPurpose(input),
            contentSid: content?.sid ?? null,
          });
          await hooks.onPermanentFailure?.(tx, { messageId: row.messageId, code, reason });
          // Issue 21 D: a message lost for good toward a customer is told to a human, like a failed status callback
          // (campaign targets are reported by their campaign's counters and outcomes, not one alert per contact).
          if (reason !== 'opted_out' && !input.campaignTargetId)
            await raiseAlerts(tx, [
              {
                tenantId: input.tenantId,
                conversationId: input.conversationId,
                type: 'delivery_failed',
                severity: 'medium',
                message: `Message "${sendPurpose(input)}" was not sent (Twilio error ${code ?? 'unknown'}: ${reason})`,
                payload: { messageId: row.messageId, errorCode: code, reason, purpose: sendPurpose(input) },
              },
            ]);
          await recordEvents(tx, [
            { ...eventBase, trace: span, type: 'reply.failed', level: 'warn', payload: { code, reason } },
          ]);
        });
        counted('failed');
        throw ApplicationFailure.create({
          type: FailureType.TwilioPermanent,
          message: error.message,
          nonRetryable: true,
          details: [{ code, reason }],
          cause: error,
        });
      }
      // A definite answer from Twilio means nothing was sent: back to pending. A network error stays in doubt.
      // A network error leaves it in doubt (Twilio may have it): marked, so the next attempt looks it up at once.
      if (error.status !== undefined)
        await markSendRetryPending(db, row.id, { code, reason: error.classification.reason });
      else await markSendInDoubt(db, row.id, IN_DOUBT);
      counted('retrying');
      throw ApplicationFailure.create({ type: FailureType.TwilioRetryable, message: error.message, cause: error });
    }
  }

  /**
   * Issue 14: the common case of a conversation send in two statements before the Twilio call (one read of all it
   * needs, one write of the message and its outbox row, already `sending`) instead of a transaction of five or more,
   * a sender look-up and a compare-and-set. Anything out of the ordinary (a retry, hooks, a resend, a stale guard, an
   * opt-out, a closed WhatsApp window, a missing template or sender) returns null: the general path below decides
   * it, exactly as before.
   */
  async function firstAttempt(
    input: SendMessageInput,
    hooks: SendHooks,
    span: TraceContext,
    counted: (result: SendResult) => void,
    /** The policy decision still to record: written by the context read, then cleared. */
    decision: { row: SendDecisionInsert | null } = { row: null },
  ): Promise<SendMessageResult | null> {
    // Sends with media (agents, rare) take the general path, which stores and sends the media.
    // Issue 25 C: a campaign send whose claim is its target's alone comes this way too (its slot wait and its
    // permanent failure are callTwilio's, its accepted step the SID write's); other hooks take the general path.
    if ((hooks.claim && !hooks.claimTarget) || hooks.onAccepted || input.resend) return null;
    if (input.mediaUrl?.length) return null;
    const sender = parseAddress(input.from);
    if (!sender) return null;
    const purpose = sendPurpose(input);
    const ctx = await loadSendContext(db, {
      idempotencyKey: input.idempotencyKey,
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      contactId: input.contactId,
      channel: input.channel,
      tenantAddress: input.from,
      senderChannel: sender.channel,
      senderPhone: sender.phone,
      templateKey: input.template?.key ?? null,
      purpose,
      decision: decision.row,
    });
    decision.row = null;
    if (ctx.existing || !ctx.sender) return null;
    if (input.guard && input.conversationId && ctx.version !== input.guard.expectedVersion) return null;
    if (isBusinessInitiated(input) && ctx.optedOut) return null;
    if (input.template && !ctx.template) return null;
    const text =
      input.template && ctx.template ? renderTemplate(ctx.template.body, input.template.variables) : input.body;
    if (!text) return null;
    const variables = {
      ...input.variables,
      ...input.template?.variables,
      text,
      ...(input.author ? { agent_name: input.author.name } : {}),
    };
    const body = input.author && input.sentBy === 'agent' ? `${input.author.name}: ${text}` : text;
    let content: { sid: string; variables: Record<string, string> } | null = null;
    if (input.channel === 'whatsapp' && !windowOpen(ctx.lastInboundAt, deps.clock(), deps.config.whatsappWindowMs)) {
      const sid = ctx.contentTemplate?.contentSid ?? ctx.template?.contentSid ?? null;
      if (!sid) return null;
      const checked = checkTemplateVariables(
        ctx.contentTemplate?.variables ?? ctx.template?.contentVariables ?? {},
        variables,
      );
      // A missing or blank variable: the general path refuses and records it.
      if (!checked.ok) return null;
      content = { sid, variables: checked.values };
    }
    const written = await insertSendingOutbound(db, {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      contactId: input.contactId,
      channel: input.channel,
      from: input.from,
      to: input.to,
      body,
      sentBy: input.sentBy,
      authorId: input.author?.id ?? null,
      correlationId: input.correlationId,
      traceId: input.trace.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentId ?? null,
      idempotencyKey: input.idempotencyKey,
      purpose,
      variables,
      content,
      expectedVersion: input.guard && input.conversationId ? input.guard.expectedVersion : null,
      advance: input.advance ? { ...input.advance, trace: input.trace } : null,
      claimTarget: hooks.claimTarget ?? null,
    });
    if (!written) return null;
    const row = { id: written.outboxId, messageId: written.messageId, advanced: written.advanced };
    // Simulated tenants (the demo, the 100k bench campaign) take this path too: the outcome in one statement.
    if (ctx.sender.mode === 'simulated') return sendSimulated(input, hooks, row, span, counted);
    const credentials = {
      accountSid: ctx.sender.accountSid,
      authToken: ctx.sender.authToken,
      messagingServiceSid: ctx.sender.messagingServiceSid,
    };
    return callTwilio(input, hooks, row, credentials, body, content, span, counted);
  }

  /**
   * Issue 23 E, one gate for every sender: a template that quotes a debt (promise confirmation, reminder…) goes out
   * as `identity_request` to a contact we hold a debt of (a collection target) unless the tenant's identity check
   * is off or the contact confirmed their identity in the conversation the message belongs to. Costs a statement only for those templates. The caller may have decided
   * already (campaigns and promise notices, which know their context): `debtDisclosure` then stands.
   */
  async function withDisclosureRule(input: SendMessageInput): Promise<SendMessageInput> {
    if (!input.template || !DEBT_TEMPLATE_KEYS.has(input.template.key) || input.resend) return input;
    const rule = await debtDisclosureAllowed(db, {
      tenantId: input.tenantId,
      contactId: input.contactId,
      conversationId: input.debtDisclosureConversationId ?? input.conversationId,
    });
    if (rule.allowed || rule.method === 'off') return input;
    return {
      ...input,
      template: { key: 'identity_request', variables: { identity_prompt: identityPrompt(rule.method, rule.locale) } },
    };
  }

  /**
   * Idempotent send (I10): the outbox row (keyed by `idempotencyKey`) and the outbound message are written
   * before Twilio is called, the SID right after. A retry finds a finished row and returns it; a row left
   * `sending` by a crash is first looked up at Twilio, so an accepted message is adopted, not sent twice.
   */
  async function send(original: SendMessageInput, hooks: SendHooks = {}): Promise<SendMessageResult> {
    const input = await withDisclosureRule(original);
    const counted = (result: SendResult) =>
      deps.metrics?.sends.inc({ kind: input.campaignTargetId ? 'campaign' : 'conversation', result });
    const span = childSpan(input.trace);
    // Issue 21: the outbound policy decides first (a resend was decided with its original message). A send the
    // customer opened is decided without reading; its record rides in the first attempt's read (issue 25 A).
    const unrecorded = input.resend ? null : policy.decideWithoutReading(input);
    let deferred: SendDecisionInsert | null = null;
    if (!input.resend && !unrecorded) {
      // Issue 25 C: a campaign send decided `send` has its record written by the first attempt's read too.
      const checked = await policy.check(input, { deferSend: hooks.claimTarget !== undefined });
      const stopped = stoppedBy(checked);
      if (stopped) return stopped;
      deferred = checked.unrecorded ?? null;
    }
    const decision = { row: unrecorded?.row ?? deferred };
    const fast = await firstAttempt(input, hooks, span, counted, decision);
    // The first attempt stopped before its read: the decision is recorded before anything else is written.
    if (decision.row) await recordSendDecision(db, decision.row);
    if (fast) return fast;
    let resolved: ResolvedContent | null = null;
    const row = await db.transaction(async (tx) => {
      const existing = await findOutboxByKey(tx, input.idempotencyKey);
      if (existing) {
        if (existing.status === 'failed' && existing.lastError === OPTED_OUT) return { optedOut: true as const };
        // A retry of a send that never reached Twilio re-checks the opt-out: a STOP between attempts stops it too.
        if (existing.status === 'pending' && isBusinessInitiated(input)) {
          if (await contactOptedOutForShare(tx, input.contactId)) {
            await markSendRefused(tx, { outboxId: existing.id, messageId: existing.messageId, reason: OPTED_OUT });
            if (input.campaignTargetId) await optOutOpenTargets(tx, input.contactId);
            return { optedOut: true as const };
          }
        }
        return existing;
      }
      if (input.guard && input.conversationId) {
        // Row lock: a concurrent transition waits for this send's outbox row, or this send sees its new version.
        const version = await lockConversationVersion(tx, input.conversationId);
        if (version !== undefined && version !== input.guard.expectedVersion) return { stale: version };
      }
      if (isBusinessInitiated(input)) {
        // I12, F: STOP stops every business-initiated message. FOR SHARE orders this against the STOP's update.
        if (await contactOptedOutForShare(tx, input.contactId)) {
          if (input.campaignTargetId) await optOutOpenTargets(tx, input.contactId);
          return { optedOut: true as const };
        }
      }
      resolved = await resolveContent(tx, input);
      const body = resolved.body;
      const messageId = await insertPendingOutboundMessage(tx, {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        contactId: input.contactId,
        channel: input.channel,
        fromAddress: input.from,
        toAddress: input.to,
        body,
        media: (input.mediaUrl ?? []).map((url) => ({ url, contentType: null })),
        sentBy: input.sentBy,
        authorId: input.author?.id ?? null,
        correlationId: input.correlationId,
        traceId: input.trace.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentId,
        campaignTargetId: input.campaignTargetId ?? null,
      });
      const refused = hooks.claim ? await hooks.claim(tx, messageId) : null;
      if (refused) {
        // Nothing of this attempt may remain: the message row goes, the outbox row was never written.
        await deleteRefusedMessage(tx, messageId);
        return { refused };
      }
      const closed = resolved.windowClosed;
      const templateRefused = resolved.templateRefused;
      const created = await insertOutboxRow(tx, {
        tenantId: input.tenantId,
        idempotencyKey: input.idempotencyKey,
        messageId,
        purpose: resolved.purpose,
        variables: resolved.variables,
        content: resolved.content,
        ...(closed ? { status: 'failed' as const, lastError: WINDOW_CLOSED } : {}),
        ...(templateRefused ? { status: 'failed' as const, lastError: TEMPLATE_VARIABLES } : {}),
      });
      // Decided before calling Twilio (no call made): recorded failed, the campaign target moves, someone is told.
      const purpose = resolved.purpose;
      const failBeforeCall = async (reason: string, detail: Record<string, unknown> = {}) => {
        await markOutboundMessageFailed(tx, messageId, reason);
        await hooks.onPermanentFailure?.(tx, { messageId, code: null, reason });
        await recordEvents(tx, [
          {
            trace: span,
            type: 'reply.failed',
            level: 'warn',
            tenantId: input.tenantId,
            contactId: input.contactId,
            conversationId: input.conversationId,
            messageId,
            payload: { reason, purpose, ...detail },
          },
        ]);
      };
      if (templateRefused) {
        // Issue 22 C: Twilio would refuse it (21656) or Meta fail it (63028): an admin is told.
        await failBeforeCall(TEMPLATE_VARIABLES, { detail: templateRefused.detail });
        await refuseRecordedDecision(tx, input.idempotencyKey, {
          name: 'whatsapp_template',
          input: { purpose, contentSid: templateRefused.contentSid },
          detail: `the Content template's variables do not match: ${templateRefused.detail}`,
        });
        await raiseTemplateVariablesAlert(tx, {
          tenantId: input.tenantId,
          conversationId: input.conversationId,
          purpose: resolved.purpose,
          contentSid: templateRefused.contentSid,
          detail: templateRefused.detail,
        });
      }
      if (closed) {
        // E: outside the WhatsApp window with no template: a supervisor is told.
        await failBeforeCall(WINDOW_CLOSED);
        await alertWindowClosed(tx, input, resolved.purpose);
        // The gate recorded the window (it cannot know the template); the proof says what the sender decided.
        const hasMedia = (input.mediaUrl?.length ?? 0) > 0;
        await refuseRecordedDecision(tx, input.idempotencyKey, {
          name: 'whatsapp_window',
          input: { purpose, hasMedia },
          detail: `outside the WhatsApp 24 h window and no Content template for "${purpose}"${hasMedia ? ' (a template cannot carry media)' : ''}`,
        });
      }
      return { ...created, body };
    });
    // Counted once, by the attempt that wrote the row (only a new row carries `body`; a retry finds the old one).
    if ('body' in row && row.status === 'failed' && row.lastError === WINDOW_CLOSED) counted('window_closed');
    if ('refused' in row && typeof row.refused === 'string')
      return { skipped: true, reason: 'precondition', detail: row.refused };
    if ('optedOut' in row) {
      await recordEvents(db, [
        {
          trace: span,
          type: 'send.refused',
          tenantId: input.tenantId,
          contactId: input.contactId,
          conversationId: input.conversationId,
          payload: { reason: 'opted_out', purpose: sendPurpose(input) },
        },
      ]);
      return { skipped: true, reason: 'opted_out' };
    }
    if ('stale' in row && typeof row.stale === 'number') {
      await recordEvents(db, [
        {
          trace: span,
          type: 'reply.discarded',
          tenantId: input.tenantId,
          contactId: input.contactId,
          conversationId: input.conversationId,
          payload: {
            reason: 'stale_version',
            expected: input.guard?.expectedVersion,
            current: row.stale,
            sentBy: input.sentBy,
          },
        },
      ]);
      return { skipped: true, reason: 'stale_version', currentVersion: row.stale };
    }
    const done = (providerSid: string | null, status: string): SendMessageResult => ({
      skipped: false,
      messageId: row.messageId,
      providerSid,
      status,
    });
    if (row.status === 'sent' || row.status === 'simulated') return done(row.providerSid, row.status);
    if (row.status === 'failed' && row.lastError === WINDOW_CLOSED)
      throw windowClosedFailure(row.purpose ?? sendPurpose(input));
    if (row.status === 'failed' && row.lastError === TEMPLATE_VARIABLES) {
      if ('body' in row) counted('template_variables');
      const detail = resolved ? ((resolved as ResolvedContent).templateRefused?.detail ?? '') : 'refused earlier';
      throw templateVariablesFailure(row.purpose ?? sendPurpose(input), detail);
    }
    if (row.status === 'failed')
      throw ApplicationFailure.create({
        type: FailureType.TwilioPermanent,
        message: `send failed earlier (${row.lastErrorCode ?? 'unknown'})`,
        nonRetryable: true,
      });

    const sender = parseAddress(input.from);
    const number = sender && (await findTenantSender(db, input.tenantId, sender.channel, sender.phone));
    if (!number)
      throw ApplicationFailure.create({
        type: FailureType.NotFound,
        message: 'sender number does not belong to the tenant',
        nonRetryable: true,
      });
    const credentials = {
      accountSid: number.accountSid,
      authToken: number.authToken,
      messagingServiceSid: number.messagingServiceSid,
    };
    const eventBase = {
      tenantId: input.tenantId,
      contactId: input.contactId,
      conversationId: input.conversationId,
      messageId: row.messageId,
    };
    const sentEvent = input.sentEvent ?? 'reply.sent';

    if (number.mode === 'simulated') return sendSimulated(input, hooks, row, span, counted);

    // A retry re-sends exactly what the first attempt recorded: the same text, the same window decision.
    const body = 'body' in row && typeof row.body === 'string' ? row.body : await currentBody(row.messageId);
    // Rows written before the window decision was stored (no purpose) re-resolve their template as they used to.
    const content =
      row.content ??
      (row.purpose === null && input.template
        ? (await resolveContent(db, { ...input, resend: { requireTemplate: true } })).content
        : null);
    if (
      row.status === 'sending' &&
      row.lastError !== IN_DOUBT &&
      Date.now() - row.updatedAt.getTime() < IN_FLIGHT_GRACE_MS
    ) {
      throw ApplicationFailure.create({
        type: FailureType.TwilioRetryable,
        message: 'another attempt of this send may still be in flight; retrying later',
      });
    }
    if (row.status === 'sending') {
      const since = new Date(row.updatedAt.getTime() - IN_DOUBT_WINDOW_MS);
      // Twilio renders a Content template itself, so its body cannot be compared: the one send to this contact
      // in the window is ours (one business-initiated template per target attempt).
      // Through a Messaging Service the sender is Twilio's pick from the pool: looked up by recipient only.
      const from = credentials.messagingServiceSid ? null : input.from;
      const found = (await deps.twilio.recent(credentials, { from, to: input.to, since })).find(
        (m) => content !== null || m.body === body,
      );
      if (found) {
        await finish(
          input.tenantId,
          row.id,
          row.messageId,
          found.sid,
          found.status,
          {
            ...eventBase,
            trace: span,
            type: sentEvent,
            payload: { providerSid: found.sid, status: found.status, adopted: true },
          },
          hooks,
        );
        counted('adopted');
        return done(found.sid, found.status);
      }
    }

    // Compare-and-set: of two attempts that read the same row, only one goes on to call Twilio.
    if (!(await claimSendAttempt(db, row)))
      throw ApplicationFailure.create({
        type: FailureType.TwilioRetryable,
        message: 'this send is being attempted concurrently; retrying later',
      });
    return callTwilio(input, hooks, row, credentials, body, content, span, counted);
  }

  /**
   * A follow-up send for a message whose status callback failed (src/db/ingress/delivery-status.ts): `template` after
   * 63016 (the purpose's Content template, whatever the window), `retry` after a retryable code. Keyed from the
   * original outbox row (`<key>:template`, `<key>:retry`), so a repeated callback or workflow retry sends once.
   */
  async function redeliver(input: {
    messageId: string;
    mode: 'template' | 'retry';
  }): Promise<SendMessageResult | { skipped: true; reason: 'nothing_to_resend' }> {
    const row = await findRedeliverySource(db, input.messageId);
    if (!row) return { skipped: true, reason: 'nothing_to_resend' };
    const { box, m } = row;
    const targetId = m.campaignTargetId;
    const hooks: SendHooks = targetId
      ? {
          // The target stayed `sending` for this resend: its outcome is this message's.
          async onAccepted(tx, sent) {
            await setTargetLastMessage(tx, targetId, sent.messageId);
            await applyTargetEvent(tx, targetId, { kind: 'accepted', status: sent.status });
          },
          async onPermanentFailure(tx, failure) {
            await applyTargetEvent(tx, targetId, { kind: 'permanent', reason: failure.reason });
          },
        }
      : {};
    return send(
      {
        idempotencyKey: `${box.idempotencyKey}:${input.mode}`,
        tenantId: m.tenantId,
        conversationId: m.conversationId,
        contactId: m.contactId,
        channel: m.channel,
        from: m.fromAddress,
        to: m.toAddress,
        body: m.body,
        ...(m.media.length > 0 ? { mediaUrl: m.media.map((item) => item.url) } : {}),
        sentBy: m.sentBy === 'customer' ? 'system' : m.sentBy,
        ...(m.authorId ? { author: { id: m.authorId, name: '' } } : {}),
        ...(box.purpose ? { purpose: box.purpose } : {}),
        variables: box.variables ?? {},
        resend: { requireTemplate: input.mode === 'template' },
        correlationId: m.correlationId,
        trace: childSpan({ traceId: m.traceId ?? m.correlationId, spanId: m.spanId ?? '', parentId: m.parentSpanId }),
        ...(targetId ? { campaignTargetId: targetId, sentEvent: 'campaign.send' as const } : {}),
      },
      hooks,
    );
  }

  return { send, redeliver };
}
