import type { Child } from 'hono/jsx';
import type { ConversationRow } from '../../db/conversations/console';
import type { Operator } from '../../db/operators/users';
import type { AppDeps } from '../context';
import type { ConsoleContext } from './session';

/**
 * The conversation view's extension point: each slot renders between the messages and the reply form (the hybrid
 * draft panel goes here). A slot that must refresh by itself wraps its markup in <Live> with its own endpoint.
 * The composition root (index.tsx) hands the slots to the agent pages, so the host page imports none of them.
 */
export interface ConversationSlotProps {
  c: ConsoleContext;
  deps: AppDeps;
  operator: Operator;
  conversation: ConversationRow;
}
export type ConversationSlot = (props: ConversationSlotProps) => Child | Promise<Child>;
