import OpenAI from 'openai';
import { z } from 'zod';
import { AiError, aiTurnOutputSchema, type AiResponder, type AiTurnRequest, type AiTurnResponse } from './ai';

export interface OpenAiResponderOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  /** Must stay below the activity's start-to-close timeout, so Temporal sees a clean failure and retries. */
  timeoutMs: number;
}

const jsonSchema = z.toJSONSchema(aiTurnOutputSchema, { target: 'draft-7' });

export function createOpenAiResponder(options: OpenAiResponderOptions): AiResponder {
  // Temporal owns retries: the SDK's own retry loop is off so attempts are visible and bounded in one place.
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0, timeout: options.timeoutMs });
  return {
    provider: 'openai',
    model: options.model,
    async respond(request: AiTurnRequest): Promise<AiTurnResponse> {
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      try {
        completion = await client.chat.completions.create({
          model: options.model,
          messages: [{ role: 'system', content: request.system }, ...request.history],
          response_format: { type: 'json_schema', json_schema: { name: 'turn', strict: true, schema: jsonSchema } },
          user: request.correlationId,
        });
      } catch (error) {
        throw classifyOpenAiError(error);
      }
      const content = completion.choices[0]?.message?.content;
      if (!content) throw new AiError('model returned no content', 'unusable_output');
      let parsed: unknown;
      try {
        parsed = JSON.parse(content) as unknown;
      } catch (error) {
        throw new AiError('model returned invalid JSON', 'unusable_output', { cause: error });
      }
      const output = aiTurnOutputSchema.safeParse(parsed);
      if (!output.success) throw new AiError(`model output failed validation: ${output.error.issues.map((i) => i.path.join('.')).join(', ')}`, 'unusable_output');
      return {
        output: output.data,
        model: completion.model || options.model,
        usage: completion.usage ? { promptTokens: completion.usage.prompt_tokens, completionTokens: completion.usage.completion_tokens } : null,
      };
    },
  };
}

export function classifyOpenAiError(error: unknown): AiError {
  if (error instanceof OpenAI.APIConnectionTimeoutError || error instanceof OpenAI.APIConnectionError) {
    return new AiError(`AI endpoint unreachable: ${error.message}`, 'retryable', { cause: error });
  }
  if (error instanceof OpenAI.APIError) {
    const status: number = typeof error.status === 'number' ? error.status : 0;
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    return new AiError(`AI endpoint answered ${status}`, retryable ? 'retryable' : 'permanent', { cause: error });
  }
  return new AiError('AI call failed', 'retryable', { cause: error });
}
