// The schema, one file per aggregate (issue 19); `../db/schema` imports and drizzle-kit read it through here.
export * from './tenants';
export * from './operators';
export * from './contacts';
export * from './conversations';
export * from './events';
export * from './ingress';
export * from './outbound';
export * from './knowledge';
export * from './campaigns';
export { ACTIVE_CONVERSATION_STATUSES } from '../../contract/statuses';
export { CAMPAIGN_STATUSES, TARGET_STATES, OPEN_TARGET_STATES } from '../../contract/statuses';
