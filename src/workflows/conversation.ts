import {
  allHandlersFinished,
  condition,
  continueAsNew,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { searchAttributes, type ConversationCarry, type ConversationInput, type ConversationResult } from '../contract';
import { isTerminal } from '../domain/conversation-state';
import { ai } from './activity-options';
import { acceptCustomerMessage, registerHandlers } from './conversation-operators';
import { ConversationRuntime, localSteps, regularSteps, type ConversationState } from './conversation-runtime';
import { runTurn } from './conversation-turn';
import { awaitingHuman, deskRules, deskSteps, humanDeadlines, slaBreached, startWait } from './conversation-desk';
import { childOf } from './trace';
import { patchedUnlessBuiltIn } from './patches';
import { DeadlineWait, LAZY_DEADLINE_PATCH } from './deadline-wait';
import { iso, summary } from './user-metadata';

export type { ConversationResult };

/** A burst is answered after at most this many debounce windows, and with at most this many messages. */
const MAX_BURST_WAITS = 5;
const MAX_BATCH = 20;
export const INBOUND_OPENS_PATCH = 'inbound-opens-conversation';

const freshCarry = (now: number): ConversationCarry => ({
  conversationId: null,
  status: 'PENDING',
  version: 1,
  pending: [],
  recentMessageIds: [],
  turns: 0,
  lastActivityAt: now,
  nudged: false,
  everHuman: false,
  assignedAgent: null,
  route: null,
});

/**
 * `conversation:<tenant>:<contact hash>`: one per customer conversation. Customer messages arrive as signals and
 * are handled by this single loop, one turn at a time, so they stay in order; a burst within the debounce
 * window becomes one AI turn. Idle nudge and close are durable timers (a condition with a timeout measured
 * from the last activity), never polling. After a close, an NPS question waits NPS_WAIT for a 0–10 answer.
 */
export async function conversationWorkflow(input: ConversationInput): Promise<ConversationResult> {
  const carried = input.carried ?? freshCarry(Date.now());
  const s: ConversationState = {
    ...carried,
    conversationId: carried.conversationId ?? '',
    pending: [...carried.pending],
    recentMessageIds: [...carried.recentMessageIds],
  };
  const rt = new ConversationRuntime(
    input,
    s,
    patchedUnlessBuiltIn('conversation-local-steps', input.builtInPatches) ? localSteps : regularSteps,
  );
  registerHandlers(rt);
  // Issue 25 A: started with its first message (eager start) rather than by signal-with-start. No command: an
  // older run's replay never has it.
  if (input.first) acceptCustomerMessage(rt, input.first);
  const { timing } = input;

  if (!carried.conversationId) {
    await condition(() => s.pending.length > 0);
    // Issue 25 A: the inbound statement opened (or found) the row and the message carries it: no step of our own.
    // An older starter's message carries none (nor does one sent while an ended conversation's run may be alive),
    // and an older worker ignores it and opens, finding the same row (the partial unique index).
    const given = s.pending[0]?.conversation;
    const ref =
      given && patchedUnlessBuiltIn(INBOUND_OPENS_PATCH, input.builtInPatches)
        ? given
        : await rt.steps.db.openConversation({
            tenantId: input.tenantId,
            contactId: input.contactId,
            channel: input.channel,
            workflowId: workflowInfo().workflowId,
            trace: s.pending[0]?.trace ?? rt.trace(),
          });
    Object.assign(s, {
      conversationId: ref.conversationId,
      status: ref.status,
      version: ref.version,
      lastActivityAt: Date.now(),
    });
    // A first run was started with status PENDING (signal-with-start): repeating it is an event for nothing (issue
    // 25 A). A continued run carries the last run's CLOSED or RESOLVED and needs it.
    if (
      input.carried ||
      ref.status !== 'PENDING' ||
      !patchedUnlessBuiltIn('start-status-not-repeated', input.builtInPatches)
    )
      upsertSearchAttributes([{ key: searchAttributes.CONVERSATION_STATUS, value: ref.status }]);
  }

  // Runs started by this build (and runs that reach this loop past their replay) wait without a timer per message.
  const deadlines = new DeadlineWait();
  while (!isTerminal(s.status)) {
    const seen = rt.wakeups;
    const aiInCharge = s.status !== 'HUMAN';
    const nudgeAt = aiInCharge && !s.nudged && s.status !== 'IDLE' ? s.lastActivityAt + timing.idleAfterMs : Infinity;
    // Issue 20 A: in HUMAN the desk's rules apply (conversation-desk.ts), not the AI's idle close.
    const desk = deskRules(rt) ? humanDeadlines(rt) : null;
    const closeAt = desk ? desk.closeAt : s.lastActivityAt + timing.closeAfterMs;
    const slaAt = desk?.slaAt ?? Infinity;
    const deadline = Math.min(nudgeAt, closeAt, slaAt);
    const until = () => s.pending.length > 0 || rt.wakeups !== seen;
    // Issue 21 F: the timer says which deadline it is (user metadata: no new command, replays as before).
    const next = !Number.isFinite(deadline)
      ? { what: s.status === 'HUMAN' ? 'waiting for an agent or the customer' : 'waiting for the customer' }
      : {
          at: deadline,
          what:
            deadline === slaAt
              ? `SLA ${s.desk?.kind ?? 'first'} response due`
              : deadline === nudgeAt
                ? 'idle nudge'
                : desk
                  ? 'desk close after agent answer'
                  : 'idle close',
        };
    rt.showDetails(next);
    const woke = patchedUnlessBuiltIn(LAZY_DEADLINE_PATCH, input.builtInPatches)
      ? await deadlines.wait(deadline, until, next.what)
      : Number.isFinite(deadline)
        ? await condition(until, Math.max(1, deadline - Date.now()), summary(`${next.what} at ${iso(deadline)}`))
        : (await condition(until), true);

    if (s.pending.length > 0) {
      if (s.status === 'HUMAN') {
        // An agent holds the conversation: the AI stays out, the messages are attached for the agent to read.
        const batch = s.pending.splice(0, s.pending.length);
        await rt.steps.db.attachMessages({
          conversationId: s.conversationId,
          messageIds: batch.map((m) => m.messageId),
        });
        // The customer wrote after an agent's answer: a new waiting period (next-response SLA), no close meanwhile.
        if (!awaitingHuman(rt) && deskSteps())
          await rt.lock.run(async () => {
            if (s.status === 'HUMAN' && !awaitingHuman(rt))
              await startWait(rt, 'next', { assign: false, tellClosed: false, trace: childOf(batch.at(-1)!.trace) });
          });
        continue;
      }
      // Debounce: wait until no new message has arrived for `debounceMs`, then answer the burst at once, but
      // never wait longer than MAX_BURST_WAITS debounce windows, nor answer more than MAX_BATCH messages in a
      // turn: a customer who never stops typing still gets answers, and the prompt stays bounded.
      // A backlog (messages that arrived during the previous turn) is not delayed again.
      const burstEnds = Date.now() + timing.debounceMs * MAX_BURST_WAITS;
      for (;;) {
        const quietAt = Math.min(s.lastActivityAt + timing.debounceMs, burstEnds);
        if (s.pending.length >= MAX_BATCH || Date.now() >= quietAt) break;
        const arrival = s.lastActivityAt;
        rt.showDetails({ what: `answering ${s.pending.length} message(s) once quiet`, at: quietAt });
        await condition(
          () => s.pending.length >= MAX_BATCH || s.lastActivityAt !== arrival,
          quietAt - Date.now(),
          summary(`debounce: answer the burst at ${iso(quietAt)}${quietAt === burstEnds ? ' (burst limit)' : ''}`),
        );
      }
      const batch = s.pending.splice(0, MAX_BATCH);
      s.nudged = false;
      rt.showDetails({ what: `AI turn for ${batch.length} message(s)` });
      await runTurn(rt, batch);
      s.turns += 1;
      rt.turnsThisRun += 1;
      // Rotate once the backlog is small, so the carried state stays small too (unless Temporal insists).
      if (
        (rt.turnsThisRun >= timing.maxTurnsPerRun && s.pending.length <= MAX_BATCH) ||
        workflowInfo().continueAsNewSuggested
      )
        await rotate(rt);
      continue;
    }
    if (woke) continue; // an operator changed the state: recompute the deadlines

    await rt.lock.run(async () => {
      if (isTerminal(s.status) || s.pending.length > 0) return;
      // A run that waited on the old close timer in HUMAN takes the desk's rules when it fires (issue 20 A).
      if (s.status === 'HUMAN' && !desk && deskRules(rt)) return;
      // Each deadline acts once, in order, even when the worker was away past both: a late nudge is still sent
      // before the close, so no timer is lost (the next pass closes at once).
      if (desk && Date.now() >= slaAt) {
        await slaBreached(rt);
      } else if (desk && Date.now() >= closeAt) {
        // An agent answered and the customer went silent for HUMAN_CLOSE_AFTER: resolved by the desk.
        await rt.send({
          template: { key: 'closing' },
          sentBy: 'system',
          idempotencyKey: `closing:${s.conversationId}`,
        });
        await rt.transition({
          to: 'RESOLVED',
          reason: 'customer silent after the agent answered',
          actor: 'system',
          resolvedBy: 'human',
        });
      } else if (Date.now() >= nudgeAt) {
        await rt.send({
          template: { key: 'idle_nudge' },
          sentBy: 'system',
          idempotencyKey: `nudge:${s.conversationId}:${s.lastActivityAt}`,
        });
        await rt.transition({ to: 'IDLE', reason: 'customer silent', actor: 'system' });
        s.nudged = true;
      } else if (Date.now() >= closeAt) {
        await rt.send({
          template: { key: 'closing' },
          sentBy: 'system',
          idempotencyKey: `closing:${s.conversationId}`,
        });
        await rt.transition({ to: 'EXPIRED', reason: 'idle timeout', actor: 'system', resolvedBy: rt.resolvedBy });
      }
    });
  }

  rt.showDetails(null);
  await condition(allHandlersFinished);
  const npsScore = await askNps(rt);
  if (s.pending.length > 0) {
    // A message after the close (not an NPS answer) opens a new conversation in a fresh run of this workflow.
    await condition(allHandlersFinished);
    await continueAsNew<typeof conversationWorkflow>({
      ...nextRunInput(input),
      carried: { ...freshCarry(Date.now()), pending: s.pending, recentMessageIds: s.recentMessageIds, route: s.route },
    });
  }
  return { conversationId: s.conversationId, status: s.status, npsScore };
}

/**
 * The next run's input without this run's first message: it is in the carried state (queue or recent ids) already,
 * and a run that took it from its input again would answer it twice once its id had left the recent ids. (Older
 * runs' inputs never have it: their continue-as-new input is unchanged.)
 */
function nextRunInput(input: ConversationInput): Omit<ConversationInput, 'first'> {
  const { first: _first, ...rest } = input;
  return rest;
}

/** After a close or resolve: ask for an NPS score and wait NPS_WAIT for a 0–10 answer (I7). */
async function askNps(rt: ConversationRuntime): Promise<number | null> {
  const { s, input } = rt;
  if (input.timing.npsWaitMs <= 0 || !s.route) return null;
  await rt.send({ template: { key: 'nps_question' }, sentBy: 'system', idempotencyKey: `nps:${s.conversationId}` });
  const npsEnds = Date.now() + input.timing.npsWaitMs;
  rt.showDetails({ what: 'NPS answer window closes', at: npsEnds });
  if (
    !(await condition(
      () => s.pending.length > 0,
      input.timing.npsWaitMs,
      summary(`NPS answer window closes at ${iso(npsEnds)}`),
    ))
  )
    return null;
  const answer = s.pending[0]!;
  const result = await rt.steps.db.recordNpsAnswer({
    tenantId: input.tenantId,
    conversationId: s.conversationId,
    contactId: input.contactId,
    messageId: answer.messageId,
    resolvedBy: rt.resolvedBy,
    trace: rt.trace(),
  });
  if (!result.recorded) return null;
  s.pending.shift();
  await rt.send({
    template: { key: 'nps_thanks' },
    sentBy: 'system',
    idempotencyKey: `nps-thanks:${s.conversationId}`,
  });
  return result.score;
}

/** Thread rotation (I13): fold old messages into the summary, then continue as new with the state. */
async function rotate(rt: ConversationRuntime): Promise<void> {
  await condition(allHandlersFinished);
  await ai
    .summarizeConversation({ tenantId: rt.input.tenantId, conversationId: rt.s.conversationId, trace: rt.trace() })
    .catch(() => ({ summarized: false }));
  await condition(allHandlersFinished);
  await continueAsNew<typeof conversationWorkflow>({
    ...nextRunInput(rt.input),
    carried: { ...rt.s, pending: [...rt.s.pending], recentMessageIds: [...rt.s.recentMessageIds] },
  });
}
