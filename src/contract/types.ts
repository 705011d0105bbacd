// The contract's types by family (issue 19): this barrel keeps the old import path working.
export type { ConversationStatus } from './statuses';
export * from './common';
export * from './ingress';
export * from './conversation';
export * from './jobs';
