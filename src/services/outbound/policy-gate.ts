// Issue 21: the outbound policy gate on the send path. Every send (the sender calls check() before anything else)
// gets a purpose, a decision from the pure rules in src/domain/policy and a send_decisions row; `causeway policy
// check` evaluates the same way without recording or sending.
import type { DbOrTx } from '../../db/core/client';
import {
  loadPolicyContext,
  recordSendDecision,
  type SendDecisionInsert,
  type TenantPolicyRow,
} from '../../db/outbound/policy';
import { recordEvents } from '../../db/events/events';
import { localDate, parseActiveHours, type ActiveHours } from '../../domain/active-hours';
import { parseAddress } from '../../domain/address';
import {
  decide,
  DEFAULT_MAX_PER_DAY,
  DEFAULT_MAX_PER_WEEK,
  mondayOf,
  startOfLocalDate,
  type PolicyDecision,
} from '../../domain/policy/gate';
import { jurisdictionOf, type PolicyPurpose } from '../../domain/policy/rules';
import { isBusinessInitiated, sendPurpose } from '../../domain/whatsapp-window';
import { childSpan } from '../../domain/trace';
import type { SendMessageInput, SendMessageResult } from '../../contract/pipeline';

const COLLECTION = new Set(['promise_reminder', 'promise_broken']);
const UTILITY = new Set(['outage_notice', 'outage_resolution', 'promise_thanks']);
const SERVICE = new Set([
  'ai_reply',
  'agent_reply',
  'fallback',
  'opt_out_confirmation',
  'opt_in_confirmation',
  'idle_nudge',
  'closing',
  'nps_question',
  'nps_thanks',
  'handoff_notice',
  'agent_joined',
  'promise_confirmation',
]);

/**
 * The policy purpose of a send: the explicit one (campaigns: by their kind), else by its own purpose key. Anything
 * unknown is `marketing`, the category with the most rules: a new kind of send is never let through by omission.
 */
export function policyPurposeOf(
  input: Pick<SendMessageInput, 'policy' | 'purpose' | 'template' | 'sentBy'>,
): PolicyPurpose {
  if (input.policy) return input.policy;
  const key = sendPurpose(input);
  if (COLLECTION.has(key)) return 'collection';
  if (UTILITY.has(key)) return 'utility';
  if (SERVICE.has(key)) return 'service';
  return 'marketing';
}

/** An answer inside a conversation the customer opened (or to the customer's own STOP/START): never held. */
export const customerOpened = (input: SendMessageInput, purpose: PolicyPurpose) =>
  !isBusinessInitiated(input) || (purpose === 'service' && input.conversationId !== null);

const hoursOrNull = (spec: string | null | undefined): ActiveHours | null => (spec ? parseActiveHours(spec) : null);

export function tenantNarrowing(policy: TenantPolicyRow | null) {
  return {
    hours: {
      collection: hoursOrNull(policy?.collectionHours),
      marketing: hoursOrNull(policy?.marketingHours),
      utility: hoursOrNull(policy?.utilityHours),
    },
    maxPerDay: policy?.maxPerDay ?? DEFAULT_MAX_PER_DAY,
    maxPerWeek: policy?.maxPerWeek ?? DEFAULT_MAX_PER_WEEK,
  };
}

export interface EvaluateInput {
  tenantId: string;
  contactId: string;
  /** The customer's address (`whatsapp:+55…` or `+55…`). */
  to: string;
  /** The tenant's address the message goes out from (the WhatsApp window is per sender). */
  from: string;
  purpose: PolicyPurpose;
  customerOpened: boolean;
  idempotencyKey: string;
  campaignHours?: { hours: ActiveHours; timeZone: string } | null;
}

/** Loads what the rules need (one statement) and decides; records nothing. */
export async function evaluatePolicy(
  db: DbOrTx,
  input: EvaluateInput,
  at: Date,
  whatsappWindowMs: number,
): Promise<PolicyDecision & { previous: string | null }> {
  const address = parseAddress(input.to);
  const phone = address?.phone ?? null;
  const channel = address?.channel ?? 'sms';
  // The cap's day and week are the recipient's (the jurisdiction's zone).
  const zone = jurisdictionOf(phone).timeZone;
  const today = localDate(zone, at);
  const ctx = await loadPolicyContext(db, {
    tenantId: input.tenantId,
    contactId: input.contactId,
    phone,
    channel,
    tenantAddress: input.from,
    idempotencyKey: input.idempotencyKey,
    dayStart: startOfLocalDate(zone, at, today),
    weekStart: startOfLocalDate(zone, at, mondayOf(today)),
  });
  const narrowing = tenantNarrowing(ctx.policy);
  const decision = decide(
    {
      purpose: input.purpose,
      customerOpened: input.customerOpened,
      to: { e164: phone, channel },
      contactTimeZone: ctx.contactTimeZone,
      optedOut: ctx.optedOut,
      suppressed: ctx.suppressed,
      dnc: ctx.dnc.map((d) => ({ ...d, registeredAt: d.registeredAt ? new Date(d.registeredAt) : null })),
      tenantHours: narrowing.hours,
      campaignHours: input.campaignHours ?? null,
      frequency: {
        today: ctx.today,
        thisWeek: ctx.thisWeek,
        maxPerDay: narrowing.maxPerDay,
        maxPerWeek: narrowing.maxPerWeek,
      },
      whatsapp: { lastInboundAt: ctx.lastInboundAt, windowMs: whatsappWindowMs },
    },
    at,
  );
  return { ...decision, previous: ctx.previous?.decision ?? null };
}

const idAfter = (prefix: string, correlationId: string) =>
  correlationId.startsWith(prefix) ? correlationId.slice(prefix.length) : null;

export interface GateDeps {
  db: DbOrTx;
  clock: () => Date;
  config: { whatsappWindowMs: number };
}

export function createPolicyGate(deps: GateDeps) {
  /** The send_decisions row of one decision. */
  const rowOf = (
    input: SendMessageInput,
    purpose: PolicyPurpose,
    opened: boolean,
    decision: PolicyDecision,
    at: Date,
  ): SendDecisionInsert => ({
    tenantId: input.tenantId,
    idempotencyKey: input.idempotencyKey,
    contactId: input.contactId,
    conversationId: input.conversationId,
    purpose,
    sendPurpose: sendPurpose(input),
    businessInitiated: !opened,
    decision: decision.decision,
    holdUntil: decision.until ?? null,
    reason: decision.reason ?? null,
    checks: decision.checks as unknown as Array<Record<string, unknown>>,
    rulesVersion: decision.rulesVersion,
    sentBy: input.sentBy,
    agentId: input.sentBy === 'agent' ? (input.author?.id ?? null) : null,
    campaignId: idAfter('campaign:', input.correlationId),
    campaignTargetId: input.campaignTargetId ?? null,
    promiseId: idAfter('promise:', input.correlationId),
    correlationId: input.correlationId,
    decidedAt: at,
  });

  /** The decision of a send the customer opened: no rule reads anything for it (see check). */
  const decideOpened = (input: SendMessageInput, purpose: PolicyPurpose, at: Date) =>
    decide(
      {
        purpose,
        customerOpened: true,
        to: { e164: parseAddress(input.to)?.phone ?? null, channel: input.channel },
        contactTimeZone: null,
        optedOut: false,
        suppressed: false,
        dnc: [],
        tenantHours: {},
        frequency: { today: 0, thisWeek: 0, maxPerDay: 0, maxPerWeek: 0 },
      },
      at,
    );

  /**
   * Issue 25 A: a customer-opened send decided `send` without reading anything, with its send_decisions row
   * unwritten: the sender writes it in its first statement (loadSendContext) instead of a statement of its own, or
   * with recordSendDecision if it never gets there. Null for every other send: those go through check().
   */
  function decideWithoutReading(input: SendMessageInput): { decision: PolicyDecision; row: SendDecisionInsert } | null {
    const purpose = policyPurposeOf(input);
    if (!customerOpened(input, purpose)) return null;
    const at = deps.clock();
    const decision = decideOpened(input, purpose, at);
    if (decision.decision !== 'send') return null;
    return { decision, row: rowOf(input, purpose, true, decision, at) };
  }

  /**
   * Decides one send and records it. A service answer in a conversation the customer opened is decided without
   * reading anything (no rule can hold or refuse it; the sender still applies the WhatsApp window), so the reply
   * path pays one insert. A send already decided `send` (a retried activity) stays sent.
   */
  async function check(
    input: SendMessageInput,
    options: {
      campaignHours?: { hours: ActiveHours; timeZone: string } | null;
      /**
       * Issue 25 C: a `send` decision is returned with its row unwritten (`unrecorded`): the caller writes it in its
       * next statement (loadSendContext), or with recordSendDecision if it never gets there. Holds and refusals are
       * recorded here as always.
       */
      deferSend?: boolean;
    } = {},
  ): Promise<PolicyDecision & { unrecorded?: SendDecisionInsert }> {
    const at = deps.clock();
    const purpose = policyPurposeOf(input);
    const opened = customerOpened(input, purpose);
    const decision: PolicyDecision & { previous?: string | null } = opened
      ? decideOpened(input, purpose, at)
      : await evaluatePolicy(
          deps.db,
          {
            tenantId: input.tenantId,
            contactId: input.contactId,
            to: input.to,
            from: input.from,
            purpose,
            customerOpened: opened,
            idempotencyKey: input.idempotencyKey,
            campaignHours: options.campaignHours ?? null,
          },
          at,
          deps.config.whatsappWindowMs,
        );
    if (decision.previous === 'send')
      return { decision: 'send', checks: decision.checks, rulesVersion: decision.rulesVersion };
    const row = rowOf(input, purpose, opened, decision, at);
    if (options.deferSend && decision.decision === 'send') return { ...decision, unrecorded: row };
    await recordSendDecision(deps.db, row);
    // An opt-out refusal is the sender's own (it stops the contact's campaign targets and records send.refused).
    if (decision.decision !== 'send' && decision.checks.find((c) => c.result === 'refuse')?.name !== 'opt_out') {
      await recordEvents(deps.db, [
        {
          trace: childSpan(input.trace),
          type: decision.decision === 'hold' ? 'send.held' : 'send.refused',
          tenantId: input.tenantId,
          contactId: input.contactId,
          conversationId: input.conversationId,
          payload: {
            purpose,
            sendPurpose: sendPurpose(input),
            reason: decision.reason,
            ...(decision.until ? { until: decision.until.toISOString() } : {}),
          },
        },
      ]);
    }
    return decision;
  }
  return { check, decideWithoutReading };
}

export type PolicyGate = ReturnType<typeof createPolicyGate>;

/** What the sender returns for a decision that stops the send; null to go on (send, or an opt-out the sender refuses). */
export function stoppedBy(decision: PolicyDecision): SendMessageResult | null {
  if (decision.decision === 'hold')
    return { skipped: true, reason: 'held', until: decision.until!.getTime(), detail: decision.reason ?? 'held' };
  if (decision.decision === 'refuse' && decision.checks.find((c) => c.result === 'refuse')?.name !== 'opt_out')
    return { skipped: true, reason: 'refused', detail: decision.reason ?? 'refused' };
  return null;
}
