import { patched } from '@temporalio/workflow';
import type { DeskWait, TraceContext } from '../contract';
import type { ConversationRuntime } from './conversation-runtime';

/**
 * Issue 20 A: in HUMAN the desk's rules replace the AI's idle timers. Runs recorded before it keep the 30-minute
 * close they were recorded with (replay); a run in flight adopts the rule the next time its timer fires live.
 */
export const DESK_CLOSE_PATCH = 'desk-human-close';
/** Issue 20 B, C, D: the waiting periods (SLA timer, desk hours message, automatic assignment, transfer). */
export const DESK_PATCH = 'desk-sla-assign';

const DEFAULT_HUMAN_CLOSE_AFTER_MS = 24 * 3_600_000;

/** A HUMAN conversation from a run that predates the desk has no wait record: the customer counts as waiting. */
export const awaitingHuman = (rt: ConversationRuntime) => rt.s.desk?.awaiting ?? true;

/**
 * The HUMAN deadlines (patched runs): no close while the customer waits for a human answer; after an agent's answer,
 * HUMAN_CLOSE_AFTER of silence resolves it. The SLA timer of the waiting period fires once.
 */
export function humanDeadlines(rt: ConversationRuntime): { closeAt: number; slaAt: number } {
  const { s, input } = rt;
  const closeAt = awaitingHuman(rt)
    ? Infinity
    : s.lastActivityAt + (input.timing.humanCloseAfterMs ?? DEFAULT_HUMAN_CLOSE_AFTER_MS);
  const wait = s.desk;
  const slaAt = wait?.awaiting && !wait.breached && wait.slaDueAt !== null ? wait.slaDueAt : Infinity;
  return { closeAt, slaAt };
}

/**
 * A waiting period starts (call under the Lock): its SLA deadline in desk hours and the wait shown in the queue. A
 * first wait that starts while the desk is closed tells the customer when it opens (a reply: they just wrote, so
 * the WhatsApp window is open). With `assign`, automatic assignment is tried at once.
 */
export async function startWait(
  rt: ConversationRuntime,
  kind: DeskWait['kind'],
  opts: { assign: boolean; tellClosed: boolean; trace?: TraceContext },
): Promise<void> {
  const { s, input } = rt;
  const since = Date.now();
  const trace = opts.trace ?? rt.trace();
  s.desk = { awaiting: true, kind, since, slaDueAt: null, breached: false };
  const result = await rt.steps.db.deskWaitStarted({
    tenantId: input.tenantId,
    conversationId: s.conversationId,
    kind,
    since,
    trace,
  });
  s.desk = { ...s.desk, slaDueAt: result.slaDueAt };
  if (opts.tellClosed && result.closed && s.route)
    await rt.send({
      template: { key: 'desk_closed', variables: { opens_at: result.closed.opensAtText } },
      sentBy: 'system',
      idempotencyKey: `desk-closed:${s.conversationId}:${since}`,
      trace,
    });
  if (opts.assign && !s.assignedAgent) await autoAssign(rt, 'system:desk', trace);
}

/** Automatic assignment within the department (call under the Lock); the customer is told who joined. */
export async function autoAssign(rt: ConversationRuntime, actor: string, trace?: TraceContext): Promise<boolean> {
  const { s } = rt;
  if (s.status !== 'HUMAN' || s.assignedAgent) return false;
  const assigned = await rt.steps.db.assignFromQueue({
    conversationId: s.conversationId,
    actor,
    trace: trace ?? rt.trace(),
  });
  if (!assigned) return false;
  s.assignedAgent = assigned.agent;
  s.version = assigned.version;
  if (s.route)
    await rt.send({
      template: { key: 'agent_joined', variables: { agent_name: assigned.agent.name } },
      sentBy: 'system',
      idempotencyKey: `joined:${s.conversationId}:${assigned.agent.id}:${s.version}`,
    });
  return true;
}

/** An agent answered (call under the Lock): the waiting period ends, the silence clock starts. */
export async function endWait(rt: ConversationRuntime): Promise<void> {
  const { s } = rt;
  const wasWaiting = awaitingHuman(rt);
  s.desk = { ...(s.desk ?? { kind: 'first', since: Date.now(), slaDueAt: null }), awaiting: false, breached: false };
  if (wasWaiting) await rt.steps.db.deskWaitEnded({ conversationId: s.conversationId });
}

/** The SLA timer fired: one `sla_breached` alert for this waiting period (call under the Lock). */
export async function slaBreached(rt: ConversationRuntime): Promise<void> {
  const wait = rt.s.desk;
  if (!wait?.awaiting || wait.breached || wait.slaDueAt === null) return;
  await rt.steps.db.raiseSlaBreachAlert({
    conversationId: rt.s.conversationId,
    kind: wait.kind,
    since: wait.since,
    dueAt: wait.slaDueAt,
    trace: rt.trace(),
  });
  rt.s.desk = { ...wait, breached: true };
}

/** Whether this run follows the desk's rules for its HUMAN phase (records the patch marker when it starts to). */
export const deskRules = (rt: ConversationRuntime) => rt.s.status === 'HUMAN' && patched(DESK_CLOSE_PATCH);
export const deskSteps = () => patched(DESK_PATCH);
