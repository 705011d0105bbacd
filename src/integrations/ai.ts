import { z } from 'zod';
import { PAYMENT_METHODS, type AiAction, type AiTurnOutput } from '../contract/ai';

// The turn's types are the contract's (src/contract/ai.ts); re-exported for the responders.
export {
  DEPARTMENTS,
  PAYMENT_METHODS,
  type AiAction,
  type AiTurnOutput,
  type Department,
  type PaymentMethod,
} from '../contract/ai';

/** Structured output of one AI turn (I8). The schema doubles as the JSON schema sent to the model. */
export const aiTurnOutputSchema: z.ZodType<AiTurnOutput> = z.object({
  reply: z.string().min(1).max(1600),
  intent: z.string().min(1).max(64),
  sentiment: z.enum(['positive', 'neutral', 'negative', 'very_negative']),
  urgency: z.enum(['low', 'medium', 'high', 'critical']),
  confidence: z.number().min(0).max(1),
  wants_human: z.boolean(),
  // Required in the schema sent (strict mode lists every property); tolerated when absent from other responders.
  sources: z.array(z.string().max(100)).max(5).optional(),
});

/** Arguments of the register_promise tool, validated wherever a model produced them. */
export const promiseArgsSchema = z.object({
  amount: z.number().positive().max(1e9),
  due_date: z
    .string()
    .refine(
      (v) =>
        /^\d{4}-\d{2}-\d{2}$/.test(v)
          ? !Number.isNaN(Date.parse(`${v}T00:00:00Z`))
          : /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)),
      'a date (YYYY-MM-DD) or an ISO date-time',
    ),
  method: z.enum(PAYMENT_METHODS),
});

export function promiseAction(args: z.infer<typeof promiseArgsSchema>): AiAction {
  return { type: 'promise', amountCents: Math.round(args.amount * 100), dueDate: args.due_date, method: args.method };
}

export interface AiChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface AiTurnRequest {
  system: string;
  history: AiChatMessage[];
  correlationId: string;
  /** The tenant's departments: the transfer tool's choices (issue 20 D). */
  departments: string[];
  /**
   * OpenAI's `safety_identifier`: a stable, keyed hash of the contact (src/domain/safety-identifier.ts), the same
   * for every turn of that contact and useless for recovering the phone number.
   */
  safetyIdentifier?: string;
}

export interface AiTurnResponse {
  /** null when the model only called a tool (the conversation then sends its own template message). */
  output: AiTurnOutput | null;
  action: AiAction;
  model: string;
  usage: { promptTokens: number; completionTokens: number } | null;
  /** Tool calls the model made besides the one acted on (parallel calls despite `parallel_tool_calls: false`). */
  ignoredToolCalls?: string[];
}

export interface AiSummaryRequest {
  previousSummary: string | null;
  messages: AiChatMessage[];
  correlationId: string;
  safetyIdentifier?: string;
}

export interface AiSummaryResponse {
  summary: string;
  model: string;
  usage: { promptTokens: number; completionTokens: number } | null;
}

export interface AiResponder {
  readonly provider: 'openai' | 'scripted';
  readonly model: string;
  respond(request: AiTurnRequest): Promise<AiTurnResponse>;
  summarize(request: AiSummaryRequest): Promise<AiSummaryResponse>;
}

/** Errors from any responder, classified once: retryable ones are retried by Temporal, the rest are not. */
export class AiError extends Error {
  constructor(
    message: string,
    /** refusal: the model declined (message.refusal, content filter); truncated: cut at max_completion_tokens. */
    readonly kind: 'retryable' | 'permanent' | 'unusable_output' | 'refusal' | 'truncated',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AiError';
  }
}

export const SUMMARY_INSTRUCTIONS =
  "Summarize this customer conversation for the agent or assistant who continues it: who the customer is, what they asked, what was promised or decided, and what is still open. At most 8 short lines, in the conversation's language, no greetings.";

/** The action a structured output implies when the model called no tool. */
export function actionFromOutput(output: AiTurnOutput): AiAction {
  return output.wants_human
    ? { type: 'handoff', department: 'support', reason: output.intent, defaulted: true }
    : { type: 'reply' };
}
