import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/activity';
import {
  FailureType,
  searchAttributes,
  workflowType,
  type Channel,
  type PromiseInput,
  type TraceContext,
  type Workflows,
} from '../contract';
import { recordEvents } from '../db/events/events';
import {
  loadPromise,
  recordPromiseReminded,
  registerPromiseOnce,
  settlePromise,
  type PromiseForNotice,
  type PromiseRow,
} from '../db/campaigns/promises';
import { formatAddress } from '../domain/address';
import { formatMoney } from '../domain/money';
import { childSpan } from '../domain/trace';
import { endOfLocalDay } from '../domain/zoned-time';
import { reminderInstant } from '../domain/policy/reminder';
import type { PaymentMethod } from '../integrations/ai';
import type { ActivityDeps } from './deps';
import { createOutboundSender } from './messaging';

export interface RegisterPromiseInput {
  tenantId: string;
  conversationId: string;
  contactId: string;
  /** The AI turn that produced the promise: a retried activity finds the promise it made. */
  aiResultId: string;
  amountCents: number;
  dueDate: string;
  method: PaymentMethod;
  channel: Channel;
  /** The tenant address the customer wrote to: reminders go out from it. */
  sender: string;
  trace: TraceContext;
}

export interface RegisteredPromise {
  promiseId: string;
  created: boolean;
  /** For the confirmation message: amount, due date and method in the tenant's locale. */
  variables: Record<string, string>;
}

/** A promise workflow's step: the promise's status, and a message the outbound policy held (issue 21). */
export interface PromiseStep {
  status: string;
  heldUntil?: number;
  /** The settled promise's message to send at `heldUntil` (null: the reminder, sent by remindPromise again). */
  heldKey?: 'promise_thanks' | 'promise_broken' | null;
  /** The rule that held it (e.g. the state's contact hours), for the timer's summary: no phone, no text. */
  heldReason?: string;
}

const heldOr = (
  status: string,
  key: 'promise_thanks' | 'promise_broken' | null,
  notified: boolean | { heldUntil: number; reason: string },
): PromiseStep =>
  typeof notified === 'object'
    ? { status, heldUntil: notified.heldUntil, heldKey: key, heldReason: notified.reason }
    : { status };

/** A promise counts for a campaign target reached within this many days. */
const TARGET_LOOKBACK_DAYS = 60;

export function createPromiseActivities(deps: ActivityDeps) {
  const { db } = deps;
  const sender = createOutboundSender(deps);

  async function load(promiseId: string): Promise<PromiseForNotice> {
    const row = await loadPromise(db, promiseId);
    if (!row)
      throw ApplicationFailure.create({
        type: FailureType.NotFound,
        message: `promise ${promiseId} not found`,
        nonRetryable: true,
      });
    return row;
  }

  const variablesOf = (p: PromiseRow, locale: string, timeZone = 'UTC') => ({
    amount: formatMoney(p.amountCents, locale),
    due_date: new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeZone }).format(p.dueAt),
    method: p.method,
  });

  /**
   * Sends a promise message through the outbox. A contact who sent STOP gets nothing (F), and a WhatsApp window
   * closed with no template (E) is recorded and alerted by the sender: either way the promise goes on (its check
   * still runs) instead of the workflow failing or retrying. Returns whether the message went out.
   */
  async function notify(
    row: PromiseForNotice,
    key: 'promise_reminder' | 'promise_thanks' | 'promise_broken',
    trace: TraceContext,
  ): Promise<boolean | { heldUntil: number; reason: string }> {
    const p = row.p;
    const span = childSpan(trace);
    let outcome: string;
    try {
      const sent = await sender.send({
        idempotencyKey: `${key}:${p.id}`,
        tenantId: p.tenantId,
        conversationId: null,
        contactId: p.contactId,
        channel: p.channel,
        from: p.sender,
        to: formatAddress(p.channel, row.phone),
        template: { key, variables: variablesOf(p, row.locale) },
        // Issue 23 E: the amount is quoted only if the contact confirmed their identity in the promise's conversation.
        debtDisclosureConversationId: p.conversationId,
        sentBy: 'system',
        correlationId: `promise:${p.id}`,
        trace: span,
      });
      if (!sent.skipped) return true;
      // Issue 21: held by the outbound policy: the workflow waits (a durable timer) and asks again. A reminder
      // that could only go out after the due date is not worth sending.
      if (sent.reason === 'held' && (key !== 'promise_reminder' || sent.until < p.dueAt.getTime()))
        return { heldUntil: sent.until, reason: sent.detail };
      outcome = sent.reason;
    } catch (error) {
      if (
        !(error instanceof ApplicationFailure) ||
        (error.type !== FailureType.WindowClosed && error.type !== FailureType.TemplateVariables)
      )
        throw error;
      outcome = error.type === FailureType.WindowClosed ? 'window_closed' : 'template_variables';
    }
    await recordEvents(db, [
      {
        trace: span,
        type: 'promise.message_skipped',
        tenantId: p.tenantId,
        contactId: p.contactId,
        payload: { promiseId: p.id, key, reason: outcome },
      },
    ]);
    return false;
  }

  /** Fulfilled or broken, with the campaign's counters and the target's payment status, in one transaction. */
  const settle = (row: PromiseForNotice, outcome: 'fulfilled' | 'broken', paidCents: number, trace: TraceContext) =>
    settlePromise(db, row.p, outcome, paidCents, trace);

  async function checkPayment(p: PromiseRow) {
    return deps.payments.check({
      tenantId: p.tenantId,
      contactId: p.contactId,
      promiseId: p.id,
      amountCents: p.amountCents,
      since: p.createdAt,
    });
  }

  return {
    /**
     * C4: stores the promise the AI registered (linked to the contact's latest campaign target, if any) and
     * starts its `promise:<id>` workflow, whose durable timers send the reminder and run the payment check.
     */
    async registerPromise(input: RegisterPromiseInput): Promise<RegisteredPromise> {
      const now = deps.clock();
      const { promise, created, timeZone, locale } = await registerPromiseOnce(
        db,
        input,
        new Date(now.getTime() - TARGET_LOOKBACK_DAYS * 86_400_000),
        (zone) =>
          /^\d{4}-\d{2}-\d{2}$/.test(input.dueDate)
            ? new Date(endOfLocalDay(input.dueDate, zone))
            : new Date(input.dueDate),
      );
      const dueAt = promise.dueAt.getTime();
      const reminderAt = reminderInstant(dueAt - deps.config.promises.reminderBeforeMs, timeZone, now.getTime());
      const args: PromiseInput = {
        promiseId: promise.id,
        tenantId: input.tenantId,
        trace: input.trace,
        dueAt,
        reminderAt: reminderAt > now.getTime() ? reminderAt : null,
        checkAt: dueAt + deps.config.promises.checkAfterMs,
      };
      try {
        await deps.temporal.client.workflow.start<Workflows['promiseWorkflow']>(workflowType.promiseWorkflow, {
          workflowId: promise.workflowId,
          taskQueue: deps.temporal.taskQueue,
          args: [args],
          typedSearchAttributes: [
            { key: searchAttributes.TRACE_ID, value: input.trace.traceId },
            ...(promise.campaignId ? [{ key: searchAttributes.CAMPAIGN_ID, value: promise.campaignId }] : []),
          ],
          staticSummary: `Promise to pay ${formatMoney(promise.amountCents, locale)} due ${promise.dueAt.toISOString()}`,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      return { promiseId: promise.id, created, variables: variablesOf(promise, locale, timeZone) };
    },

    /**
     * Before the due date: a customer who already paid is thanked (fulfilled); anyone else gets the reminder.
     * `heldUntil`: the outbound policy held the message; the workflow calls again then (issue 21).
     */
    async remindPromise(input: { promiseId: string; trace: TraceContext }): Promise<PromiseStep> {
      const row = await load(input.promiseId);
      if (row.p.status !== 'pending') return { status: row.p.status };
      const check = await checkPayment(row.p);
      if (check.paid) {
        if (await settle(row, 'fulfilled', check.paidCents, input.trace))
          return heldOr('fulfilled', 'promise_thanks', await notify(row, 'promise_thanks', input.trace));
        return { status: 'fulfilled' };
      }
      const reminded = await notify(row, 'promise_reminder', input.trace);
      if (reminded === true) await recordPromiseReminded(db, row.p, input.trace);
      return heldOr('pending', null, reminded);
    },

    /** After the due date (and the grace period): fulfilled, or broken with a follow-up message. */
    async checkPromise(input: { promiseId: string; trace: TraceContext }): Promise<PromiseStep> {
      const row = await load(input.promiseId);
      if (row.p.status !== 'pending') return { status: row.p.status };
      const check = await checkPayment(row.p);
      const outcome = check.paid ? 'fulfilled' : 'broken';
      if (await settle(row, outcome, check.paidCents, input.trace)) {
        const key = outcome === 'fulfilled' ? 'promise_thanks' : 'promise_broken';
        return heldOr(outcome, key, await notify(row, key, input.trace));
      }
      return { status: outcome };
    },

    /** Issue 21: a settled promise's message the policy held, sent when its time came (asks the gate again). */
    async notifyPromise(input: {
      promiseId: string;
      key: 'promise_thanks' | 'promise_broken';
      trace: TraceContext;
    }): Promise<PromiseStep> {
      const row = await load(input.promiseId);
      return heldOr(row.p.status, input.key, await notify(row, input.key, input.trace));
    },
  };
}
