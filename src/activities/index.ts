import { createAiActivities } from './ai';
import { createConversationActivities } from './conversation';
import { createDeskActivities } from './desk';
import { createDraftActivities } from './drafts';
import type { ActivityDeps } from './deps';
import { createInboundActivities } from './inbound';
import { createIngressActivities } from './ingress';
import { createMessagingActivities } from './messaging';
import { createCampaignActivities } from './campaign';
import { createErasureActivities } from './erasure';
import { createRetentionActivities } from './retention';
import { createPromiseActivities } from './promises';
import { createReconcileActivities } from './reconcile';
import { createOutreachActivities } from './outreach';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createInboundActivities(deps),
    ...createConversationActivities(deps),
    ...createAiActivities(deps),
    ...createMessagingActivities(deps),
    ...createCampaignActivities(deps),
    ...createPromiseActivities(deps),
    ...createReconcileActivities(deps),
    ...createIngressActivities(deps),
    ...createErasureActivities(deps),
    ...createRetentionActivities(deps),
    ...createDraftActivities(deps),
    ...createDeskActivities(deps),
    ...createOutreachActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
