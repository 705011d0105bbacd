import { z } from 'zod';

/** Structured output of one AI turn (I8). The schema doubles as the JSON schema sent to the model. */
export const aiTurnOutputSchema = z.object({
  reply: z.string().min(1).max(1600),
  intent: z.string().min(1).max(64),
  sentiment: z.enum(['positive', 'neutral', 'negative', 'very_negative']),
  urgency: z.enum(['low', 'medium', 'high', 'critical']),
  confidence: z.number().min(0).max(1),
  wants_human: z.boolean(),
});
export type AiTurnOutput = z.infer<typeof aiTurnOutputSchema>;

export interface AiChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface AiTurnRequest {
  system: string;
  history: AiChatMessage[];
  correlationId: string;
}

export interface AiTurnResponse {
  output: AiTurnOutput;
  model: string;
  usage: { promptTokens: number; completionTokens: number } | null;
}

export interface AiResponder {
  readonly provider: 'openai' | 'scripted';
  readonly model: string;
  respond(request: AiTurnRequest): Promise<AiTurnResponse>;
}

/** Errors from any responder, classified once: retryable ones are retried by Temporal, the rest are not. */
export class AiError extends Error {
  constructor(
    message: string,
    readonly kind: 'retryable' | 'permanent' | 'unusable_output',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AiError';
  }
}
