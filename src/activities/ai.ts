import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType, type TraceContext } from '../contract';
import { aiResults, conversations, messages } from '../db/schema';
import { DEFAULT_SYSTEM_PROMPT, HISTORY_WINDOW } from '../domain/prompts';
import { childSpan } from '../domain/trace';
import { AiError, type AiTurnOutput } from '../integrations/ai';
import type { ActivityDeps } from './deps';
import { recordEvents } from '../db/events';

export interface GenerateReplyInput {
  tenantId: string;
  conversationId: string;
  /** The customer messages this turn answers (a coalesced burst), oldest first. */
  messageIds: string[];
  correlationId: string;
  trace: TraceContext;
}

export interface GeneratedReply {
  aiResultId: string;
  output: AiTurnOutput;
}

export function createAiActivities(deps: ActivityDeps) {
  return {
    /** One AI turn: attaches the burst to the conversation, builds the prompt from history, stores the result. */
    async generateReply(input: GenerateReplyInput): Promise<GeneratedReply> {
      const span = childSpan(input.trace);
      await deps.db.transaction(async (tx) => {
        await tx.update(messages).set({ conversationId: input.conversationId })
          .where(and(inArray(messages.id, input.messageIds), isNull(messages.conversationId)));
        await tx.update(conversations).set({ lastMessageAt: sql`now()`, updatedAt: sql`now()` }).where(eq(conversations.id, input.conversationId));
      });
      const recent = await deps.db.select({ direction: messages.direction, body: messages.body, status: messages.status })
        .from(messages)
        .where(eq(messages.conversationId, input.conversationId))
        .orderBy(desc(messages.createdAt), desc(messages.id))
        .limit(HISTORY_WINDOW);
      const history = recent.reverse()
        .filter((m) => m.body.length > 0 && m.status !== 'failed')
        .map((m) => ({ role: m.direction === 'inbound' ? ('user' as const) : ('assistant' as const), content: m.body }));

      const attempt = Context.current().info.attempt;
      const started = performance.now();
      const base = { tenantId: input.tenantId, conversationId: input.conversationId, correlationId: input.correlationId, traceId: input.trace.traceId, provider: deps.ai.provider, attempt };
      try {
        const response = await deps.ai.respond({ system: DEFAULT_SYSTEM_PROMPT, history, correlationId: input.correlationId });
        const latencyMs = Math.round(performance.now() - started);
        const [row] = await deps.db.insert(aiResults).values({
          ...base, model: response.model, status: 'ok', latencyMs, output: response.output,
          promptTokens: response.usage?.promptTokens ?? null, completionTokens: response.usage?.completionTokens ?? null,
        }).returning({ id: aiResults.id });
        await recordEvents(deps.db, [{ trace: span, type: 'ai.called', tenantId: input.tenantId, conversationId: input.conversationId, payload: { aiResultId: row!.id, model: response.model, latencyMs, intent: response.output.intent, messages: input.messageIds.length } }]);
        return { aiResultId: row!.id, output: response.output };
      } catch (error) {
        const latencyMs = Math.round(performance.now() - started);
        const aiError = error instanceof AiError ? error : new AiError('AI responder failed', 'retryable', { cause: error });
        await deps.db.insert(aiResults).values({ ...base, model: deps.ai.model, status: 'failed', latencyMs, error: `${aiError.kind}: ${aiError.message}` });
        await recordEvents(deps.db, [{ trace: span, type: 'ai.failed', level: 'warn', tenantId: input.tenantId, conversationId: input.conversationId, payload: { kind: aiError.kind, attempt } }]);
        const type = aiError.kind === 'permanent' ? FailureType.AiPermanent : aiError.kind === 'unusable_output' ? FailureType.AiUnusableOutput : FailureType.AiRetryable;
        throw ApplicationFailure.create({ type, message: aiError.message, nonRetryable: aiError.kind === 'permanent', cause: aiError });
      }
    },
  };
}
