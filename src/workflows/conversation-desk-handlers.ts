import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import {
  deskAssignUpdate,
  FailureType,
  transferUpdate,
  type ConversationSnapshot,
  type OperatorAction,
  type TransferArgs,
} from '../contract';
import { autoAssign } from './conversation-desk';
import type { ConversationRuntime } from './conversation-runtime';

const reject = (message: string) => {
  throw ApplicationFailure.create({ type: FailureType.InvalidState, message, nonRetryable: true });
};

/** Issue 20 D: transfers and the automatic assignment an agent coming online asks for. */
export function registerDeskHandlers(
  rt: ConversationRuntime,
  h: { human: () => void; done: () => ConversationSnapshot },
) {
  const { s } = rt;
  const validTransfer = (args: TransferArgs) => {
    h.human();
    if (!args.toDepartment && !args.toAgent) reject('name a department or an agent to transfer to');
    if (args.toAgent && s.assignedAgent?.id === args.toAgent.id && !args.toDepartment)
      reject(`already held by ${args.toAgent.name}`);
  };

  setHandler(
    transferUpdate,
    (args) =>
      rt.lock.run(async () => {
        validTransfer(args);
        const moved = await rt.steps.db.transferConversation({
          conversationId: s.conversationId,
          expectedVersion: s.version,
          toDepartment: args.toDepartment ?? null,
          toAgent: args.toAgent ?? null,
          note: args.note?.trim() || null,
          actor: args.actor,
          trace: rt.trace(),
        });
        if (!moved) reject('the conversation changed; reload and retry');
        s.version = moved!.version;
        s.assignedAgent = args.toAgent ?? null;
        if (args.toAgent && s.route)
          await rt.send({
            template: { key: 'agent_joined', variables: { agent_name: args.toAgent.name } },
            sentBy: 'system',
            idempotencyKey: `joined:${s.conversationId}:${args.toAgent.id}:${s.version}`,
          });
        // To a department's queue: its automatic assignment takes it if an agent there is free.
        if (!args.toAgent) await autoAssign(rt, 'system:desk');
        return h.done();
      }),
    { validator: validTransfer },
  );

  setHandler(deskAssignUpdate, (args: OperatorAction) =>
    rt.lock.run(async () => {
      if (s.status === 'HUMAN' && !s.assignedAgent) await autoAssign(rt, args.actor);
      return h.done();
    }),
  );
}
