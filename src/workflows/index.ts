// The worker's workflowsPath points here: every workflow type the worker runs is exported from this barrel.
export { inboundWorkflow } from './inbound';
export { conversationWorkflow } from './conversation';
export { campaignWorkflow } from './campaign';
export { pacerWorkflow } from './pacer';
export { promiseWorkflow } from './promise';
export { reconcileWorkflow } from './reconcile';
export { inboxDrainWorkflow, statusCallbackWorkflow } from './ingress';
export { redeliveryWorkflow } from './redelivery';
export { erasureWorkflow } from './erasure';
export { retentionWorkflow } from './retention';
export { outreachWorkflow } from './outreach';
