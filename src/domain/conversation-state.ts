import { TERMINAL_CONVERSATION_STATUSES, type ConversationStatus } from '../contract/statuses';

// The conversation lifecycle (I6) as data: which status may follow which. Used by activities before every
// optimistic-locked UPDATE, and by the API to refuse impossible operator actions early.
const ALLOWED: Record<ConversationStatus, readonly ConversationStatus[]> = {
  PENDING: ['PROGRESS', 'HUMAN', 'IDLE', 'CLOSED', 'EXPIRED'],
  PROGRESS: ['IDLE', 'HUMAN', 'RESOLVED', 'CLOSED', 'EXPIRED'],
  IDLE: ['PROGRESS', 'HUMAN', 'RESOLVED', 'CLOSED', 'EXPIRED'],
  HUMAN: ['PROGRESS', 'RESOLVED', 'CLOSED', 'EXPIRED'],
  RESOLVED: [],
  CLOSED: [],
  EXPIRED: [],
};

export function canTransition(from: ConversationStatus, to: ConversationStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function isTerminal(status: ConversationStatus): boolean {
  return (TERMINAL_CONVERSATION_STATUSES as readonly ConversationStatus[]).includes(status);
}
