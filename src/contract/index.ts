import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ConversationSnapshot, CustomerMessage } from './types';

export * from './types';
export * from './ids';
export * as searchAttributes from './search-attributes';

export const customerMessageSignal = defineSignal<[CustomerMessage]>('customerMessage');
export const conversationSnapshotQuery = defineQuery<ConversationSnapshot>('snapshot');

/** Failure `type` strings: the same vocabulary in ApplicationFailure.create and in nonRetryableErrorTypes. */
export const FailureType = {
  TwilioPermanent: 'TwilioPermanentError',
  TwilioRetryable: 'TwilioRetryableError',
  AiUnusableOutput: 'AiUnusableOutput',
  AiPermanent: 'AiPermanentError',
  AiRetryable: 'AiRetryableError',
  NotFound: 'NotFound',
  StaleVersion: 'StaleVersion',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
