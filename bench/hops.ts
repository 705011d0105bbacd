// A pipeline's Temporal hops read from the histories it recorded: the no-op pipelines follow them, so a baseline
// makes the hops Causeway makes now (the inbound group per pass, the throughput group's chosen shape), never a
// shape written down once and left behind by a change of the pipeline (issue 25 D made the model call regular).
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Shape, Steps } from './noop/shape';

const EventType = proto.temporal.api.enums.v1.EventType;
export type Events = proto.temporal.api.history.v1.IHistoryEvent[];

export const eventTime = (e: Events[number]) =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
const isLocal = (e: Events[number]) =>
  e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
  e.markerRecordedEventAttributes?.markerName === 'core_local_activity';
const isRegular = (e: Events[number], replyAt: number) =>
  e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && eventTime(e) <= replyAt;

/** A history's activities: regular ones scheduled before `replyAt` (ms), local ones, regular ones after, in order. */
export const steps = (events: Events, replyAt = Infinity): Steps => ({
  regular: events.filter((e) => isRegular(e, replyAt)).length,
  after: events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && eventTime(e) > replyAt)
    .length,
  local: events.filter(isLocal).length,
  order: events.flatMap((e) => (isLocal(e) ? ['L'] : isRegular(e, replyAt) ? ['R'] : [])).join(''),
});

/** Until the workflow has no workflow task or activity pending (its last turn fully recorded). */
export async function settled(client: Client, workflowId: string) {
  const handle = client.workflow.getHandle(workflowId);
  for (let i = 0; i < 500; i += 1) {
    const { raw } = await handle.describe();
    const closed =
      raw.workflowExecutionInfo?.status !==
      proto.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    if (closed || (!raw.pendingWorkflowTask && (raw.pendingActivities?.length ?? 0) === 0)) return;
    await new Promise((r) => setTimeout(r, 20)); // polling Temporal's own state: there is no event to wait for
  }
  throw new Error(`${workflowId} did not settle`);
}

export async function historyOf(client: Client, workflowId: string): Promise<Events> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

/**
 * The hops of a new conversation's first message on `taskQueue`, read after a sequential warm-up of new customers:
 * the newest completed `inbound:<sid>` and the newest running conversation (the warm-up's last, settled: its
 * history so far is its one message's). Activities after the reply cannot be told apart here (no reply time), so
 * any counts before it: that makes the no-op's reply later, never earlier, than Causeway's hops allow.
 */
export async function newConversationHops(client: Client, taskQueue: string): Promise<Shape> {
  const newest = async (type: string, status: string) => {
    for await (const w of client.workflow.list({
      query: `WorkflowType = '${type}' AND TaskQueue = '${taskQueue}' AND ExecutionStatus = '${status}'`,
    }))
      return w.workflowId;
    throw new Error(`no ${status.toLowerCase()} ${type} on ${taskQueue} to read the pipeline's hops from`);
  };
  const inbound = await historyOf(client, await newest('inboundWorkflow', 'Completed'));
  const conversationId = await newest('conversationWorkflow', 'Running');
  await settled(client, conversationId);
  const conversation = await historyOf(client, conversationId);
  return { inbound: steps(inbound), conversation: steps(conversation) };
}
