// Types of the AI turn shared by the workflows, the activities, the domain rules and the responders. Plain types
// and constants only (workflow code imports them); the zod schemas that validate a model's output live in
// src/integrations/ai.ts and are checked against these types there.

/**
 * The departments the assistant offered before they came from the tenant (issue 20 D): still offered to a tenant that
 * has declared none of its own. A turn's transfer tool lists the tenant's departments (AiTurnRequest.departments).
 */
export const DEPARTMENTS = ['support', 'billing', 'sales', 'collections'] as const;
export type Department = string;

export const PAYMENT_METHODS = ['boleto', 'pix', 'card', 'transfer', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** Structured output of one AI turn (I8). */
export interface AiTurnOutput {
  reply: string;
  intent: string;
  sentiment: 'positive' | 'neutral' | 'negative' | 'very_negative';
  urgency: 'low' | 'medium' | 'high' | 'critical';
  confidence: number;
  wants_human: boolean;
  /** Issue 23 D: ids of the knowledge base articles the reply used ([] or absent: none). */
  sources?: string[];
}

/** What the turn asks the conversation to do besides replying (from a tool call or `wants_human`). */
export type AiAction =
  | { type: 'reply' }
  /**
   * `department`: the transfer tool's argument, or (`defaulted`) a placeholder the turn activity replaces with the
   * tenant's default department when the model only said wants_human.
   */
  | { type: 'handoff'; department: string; reason: string; defaulted?: true }
  | { type: 'close'; reason: string }
  /** C4: the customer committed to pay; `dueDate` is `YYYY-MM-DD` (end of that day, contact's zone) or an ISO instant. */
  | { type: 'promise'; amountCents: number; dueDate: string; method: PaymentMethod };

/** An alert a supervisor should see (I8 urgent/negative turns, handoffs, AI failures). */
export interface AlertSpec {
  type: 'urgent' | 'negative_sentiment' | 'handoff' | 'ai_failure';
  severity: 'low' | 'medium' | 'high' | 'critical';
  message: string;
}
