import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AgentMessageArgs,
  ConversationSnapshot,
  CustomerMessage,
  OperatorAction,
  TakeOverArgs,
  TransferArgs,
} from './conversation';
import type { AcquireSlotsArgs, CampaignProgress, ControlArgs } from './campaign';

export * from './types';
export * from './ids';
export * from './campaign';
export * from './drafts';
export * from './ai';
export * from './pipeline';
export * from './workflow-types';
export * as searchAttributes from './search-attributes';

export const customerMessageSignal = defineSignal<[CustomerMessage]>('customerMessage');
export const conversationSnapshotQuery = defineQuery<ConversationSnapshot>('snapshot');

// Operator actions are updates: validated against the workflow's state, applied in order with its own steps,
// and answered with the resulting snapshot (or a rejection the API turns into 409).
export const takeOverUpdate = defineUpdate<ConversationSnapshot, [TakeOverArgs]>('takeOver');
export const releaseUpdate = defineUpdate<ConversationSnapshot, [OperatorAction]>('release');
export const agentMessageUpdate = defineUpdate<{ messageId: string; status: string }, [AgentMessageArgs]>(
  'agentMessage',
);
export const resolveUpdate = defineUpdate<ConversationSnapshot, [OperatorAction]>('resolve');
export const closeUpdate = defineUpdate<ConversationSnapshot, [OperatorAction]>('close');
/** Desk (issue 20 D): move a HUMAN conversation to another department or agent, with a note for them. */
export const transferUpdate = defineUpdate<ConversationSnapshot, [TransferArgs]>('transfer');
/** Desk (issue 20 D): an agent came online; a conversation waiting unassigned tries automatic assignment again. */
export const deskAssignUpdate = defineUpdate<ConversationSnapshot, [OperatorAction]>('deskAssign');

// Campaign control (C1/C2): signals, so `causeway campaign pause` works even while the workflow is busy sending.
export const pauseCampaignSignal = defineSignal<[ControlArgs]>('pause');
export const resumeCampaignSignal = defineSignal<[ControlArgs]>('resume');
export const cancelCampaignSignal = defineSignal<[ControlArgs]>('cancel');
/** Something changed outside the workflow (a delivery callback scheduled a retry, an opt-out, new settings). */
export const targetsChangedSignal = defineSignal<[]>('targetsChanged');
export const campaignProgressQuery = defineQuery<CampaignProgress>('progress');

/** The sender's pacer grants `count` send slots (epoch ms), spaced by at least `intervalMs` across all callers. */
export const acquireSlotsUpdate = defineUpdate<{ slots: number[] }, [AcquireSlotsArgs]>('acquireSlots');

/** Failure `type` strings: the same vocabulary in ApplicationFailure.create and in nonRetryableErrorTypes. */
export const FailureType = {
  TwilioPermanent: 'TwilioPermanentError',
  TwilioRetryable: 'TwilioRetryableError',
  AiUnusableOutput: 'AiUnusableOutput',
  AiPermanent: 'AiPermanentError',
  AiRetryable: 'AiRetryableError',
  /** The model refused (message.refusal) or its answer was filtered: not retried, the fallback goes out. */
  AiRefused: 'AiRefused',
  /** The answer was cut at max_completion_tokens (finish_reason length): not retried, the fallback goes out. */
  AiTruncated: 'AiTruncated',
  NotFound: 'NotFound',
  StaleVersion: 'StaleVersion',
  InvalidState: 'InvalidState',
  /** The database refused the statement (SQLSTATE class 22, 23, 42): retrying cannot help. */
  DatabaseRejected: 'DatabaseRejected',
  /** The database could not be reached or shut the session down: retried until it is back. */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** A WhatsApp message outside the 24 h window with no Content template for its purpose: never sent, never retried. */
  WindowClosed: 'WindowClosed',
  /** A WhatsApp template send whose declared variables were not all supplied (or blank): never sent, never retried. */
  TemplateVariables: 'TemplateVariables',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
