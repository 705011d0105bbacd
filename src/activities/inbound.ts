import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract';
import type { DeliverInput, InboundFailureInput, InboundInput, KeywordInput } from '../contract';
import { ServiceError } from '../services/errors';
import { createInboundService } from '../services/inbound';
import type { ActivityDeps } from './deps';
export type { RecordedInbound, DeliverInput, KeywordInput, InboundFailureInput } from '../contract/pipeline';

export { CAUSAL_WINDOW_MS } from '../db/ingress/inbound';

/**
 * A refusal of the inbound use case (an unknown tenant, a sender that is no phone address) fails the same way
 * again: NotFound, not retried. Anything else passes as it is (database errors are typed by db-failures.ts).
 */
function refused(error: unknown): never {
  if (error instanceof ServiceError)
    throw ApplicationFailure.create({ type: FailureType.NotFound, message: error.message, nonRetryable: true });
  throw error;
}

/** The inbound workflow's steps over src/services/inbound.ts. */
export function createInboundActivities(deps: ActivityDeps) {
  const inbound = createInboundService(deps);
  return {
    applyKeyword: (input: KeywordInput) => inbound.applyKeyword(input),
    recordInbound: (input: InboundInput) => inbound.recordInbound(input).catch(refused),
    receiveInbound: (input: InboundInput) => inbound.receiveInbound(input).catch(refused),
    deliverToConversation: (input: DeliverInput) => inbound.deliverToConversation(input),
    recordInboundFailure: (input: InboundFailureInput) => inbound.recordInboundFailure(input),
  };
}
