import { ApplicationFailure, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  agentMessageUpdate,
  closeUpdate,
  conversationSnapshotQuery,
  customerMessageSignal,
  FailureType,
  releaseUpdate,
  resolveUpdate,
  takeOverUpdate,
  type AgentMessageArgs,
  type CustomerMessage,
  type OperatorAction,
  type TakeOverArgs,
  type TransitionResultLike,
} from '../contract';
import { isTerminal } from '../domain/conversation-state';
import { registerDraftHandlers } from './conversation-drafts';
import { deskSteps, endWait, startWait } from './conversation-desk';
import { registerDeskHandlers } from './conversation-desk-handlers';
import type { ConversationRuntime } from './conversation-runtime';

/** Message ids remembered for de-duplication of re-delivered signals. */
const RECENT_IDS = 500;

/**
 * A customer message joins the queue (the signal's handler, and a run started with its first message in its input).
 * An activity retry may deliver a message twice: the message id makes it harmless.
 */
export function acceptCustomerMessage(rt: ConversationRuntime, message: CustomerMessage): void {
  const { s } = rt;
  if (s.recentMessageIds.includes(message.messageId) || s.pending.some((m) => m.messageId === message.messageId))
    return;
  s.pending.push(message);
  s.recentMessageIds.push(message.messageId);
  s.recentMessageIds.splice(0, Math.max(0, s.recentMessageIds.length - RECENT_IDS));
  s.lastActivityAt = Date.now();
  s.route = { tenantAddress: message.tenantAddress, customerAddress: message.customerAddress };
  rt.lastTrace = message.trace;
}

const reject = (message: string) => {
  throw ApplicationFailure.create({ type: FailureType.InvalidState, message, nonRetryable: true });
};

function ensureApplied(result: TransitionResultLike, what: string) {
  if (!result.applied)
    reject(`${what} did not apply: the conversation is ${result.status} (version ${result.version})`);
}

/** Signal, query and update handlers of the conversation workflow (operator actions are updates, I6 + handoff). */
export function registerHandlers(rt: ConversationRuntime) {
  const { s } = rt;
  const open = () => {
    if (isTerminal(s.status)) reject(`the conversation is already ${s.status}`);
  };
  const human = () => {
    if (s.status !== 'HUMAN') reject(`the conversation is ${s.status}, not held by an agent`);
  };
  const done = () => {
    rt.wakeups += 1;
    return rt.snapshot();
  };

  setHandler(customerMessageSignal, (message) => acceptCustomerMessage(rt, message));

  setHandler(conversationSnapshotQuery, () => rt.snapshot());

  setHandler(
    takeOverUpdate,
    (args) =>
      rt.lock.run(async () => {
        open();
        if (s.status === 'HUMAN' && s.assignedAgent && s.assignedAgent.id !== args.agent.id && !args.force)
          reject(`held by ${s.assignedAgent.name}`);
        const wasHuman = s.status === 'HUMAN';
        const result = await rt.transition({
          to: 'HUMAN',
          reason: args.reason ?? 'agent took over',
          actor: args.actor,
          assignedAgent: args.agent.id,
        });
        ensureApplied(result, 'take over');
        const joined = s.assignedAgent?.id !== args.agent.id;
        s.assignedAgent = args.agent;
        s.everHuman = true;
        if (joined && s.route)
          await rt.send({
            template: { key: 'agent_joined', variables: { agent_name: args.agent.name } },
            sentBy: 'system',
            idempotencyKey: `joined:${s.conversationId}:${args.agent.id}:${s.version}`,
          });
        // Issue 20: taken from the AI, the customer now waits for this agent's first answer (SLA clock).
        if (!wasHuman && deskSteps()) await startWait(rt, 'first', { assign: false, tellClosed: false });
        return done();
      }),
    {
      validator: (args: TakeOverArgs) => {
        open();
        if (s.status === 'HUMAN' && s.assignedAgent && s.assignedAgent.id !== args.agent.id && !args.force)
          reject(`held by ${s.assignedAgent.name}`);
      },
    },
  );

  setHandler(
    releaseUpdate,
    (args: OperatorAction) =>
      rt.lock.run(async () => {
        human();
        ensureApplied(
          await rt.transition({
            to: 'PROGRESS',
            reason: args.reason ?? 'released to the assistant',
            actor: args.actor,
            assignedAgent: null,
          }),
          'release',
        );
        s.assignedAgent = null;
        s.desk = null;
        return done();
      }),
    { validator: (_args: OperatorAction) => human() },
  );

  setHandler(
    agentMessageUpdate,
    (args) =>
      rt.lock.run(async () => {
        human();
        // Only updates with media take the new path; histories recorded before it have none.
        const media = args.mediaUrl && patched('agent-message-media') ? [args.mediaUrl] : undefined;
        const sent = await rt.send({
          body: args.body,
          ...(media ? { mediaUrl: media } : {}),
          sentBy: 'agent',
          author: args.agent,
          idempotencyKey: `agent:${s.conversationId}:${args.idempotencyKey}`,
          guard: { expectedVersion: s.version },
          correlationId: `${workflowInfo().workflowId}:agent:${args.idempotencyKey}`,
        });
        if (sent.skipped) reject('the conversation changed; reload and retry');
        s.lastActivityAt = Date.now();
        // Issue 20: an agent answered; the waiting period (and its SLA) ends, the silence clock starts.
        if (deskSteps()) await endWait(rt);
        rt.wakeups += 1;
        return sent.skipped ? { messageId: '', status: 'skipped' } : { messageId: sent.messageId, status: sent.status };
      }),
    {
      validator: (args: AgentMessageArgs) => {
        human();
        if (!args.body.trim() && !args.mediaUrl) reject('empty message');
      },
    },
  );

  setHandler(
    resolveUpdate,
    (args) =>
      rt.lock.run(async () => {
        open();
        ensureApplied(
          await rt.transition({
            to: 'RESOLVED',
            reason: args.reason ?? 'resolved by an agent',
            actor: args.actor,
            resolvedBy: 'human',
          }),
          'resolve',
        );
        s.everHuman = true;
        return done();
      }),
    { validator: (_args: OperatorAction) => open() },
  );

  setHandler(
    closeUpdate,
    (args) =>
      rt.lock.run(async () => {
        open();
        ensureApplied(
          await rt.transition({
            to: 'CLOSED',
            reason: args.reason ?? 'closed by an operator',
            actor: args.actor,
            resolvedBy: 'human',
          }),
          'close',
        );
        s.everHuman = true;
        return done();
      }),
    { validator: (_args: OperatorAction) => open() },
  );

  // Issue 20 D: transfer to another department or agent, and automatic assignment when an agent comes online.
  registerDeskHandlers(rt, { human, done });

  // hybrid-drafts: approve / edit / reject of AI drafts and their escalation timer (conversation-drafts.ts).
  registerDraftHandlers(rt);
}
