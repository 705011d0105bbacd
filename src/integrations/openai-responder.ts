import OpenAI from 'openai';
import { z } from 'zod';
import {
  actionFromOutput,
  AiError,
  aiTurnOutputSchema,
  DEPARTMENTS,
  PAYMENT_METHODS,
  promiseAction,
  promiseArgsSchema,
  SUMMARY_INSTRUCTIONS,
  type AiAction,
  type AiResponder,
  type AiSummaryRequest,
  type AiSummaryResponse,
  type AiTurnRequest,
  type AiTurnResponse,
} from './ai';
import { toStrictSchema } from './strict-schema';

export interface OpenAiResponderOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  /** Must stay below the activity's start-to-close timeout, so Temporal sees a clean failure and retries. */
  timeoutMs: number;
  /** Upper bound on the tokens one answer may generate (AI_MAX_COMPLETION_TOKENS); an answer cut there is not used. */
  maxCompletionTokens?: number;
}

// Strict subset only: zod's minLength/maxLength (and $schema) are dropped here and enforced by aiTurnOutputSchema
// on the answer (src/integrations/strict-schema.ts says why).
export const TURN_JSON_SCHEMA = toStrictSchema(z.toJSONSchema(aiTurnOutputSchema, { target: 'draft-7' }));

/**
 * The transfer tool of one turn: its department enum is the tenant's departments (issue 20 D). Strict structured
 * outputs accept this subset: an enum of strings, every property required, no additional properties.
 */
export function transferTool(departments: readonly string[]): OpenAI.Chat.Completions.ChatCompletionTool {
  return {
    type: 'function',
    function: {
      name: 'transfer_to_human',
      description: 'Hand the conversation to a human agent of a department.',
      parameters: {
        type: 'object',
        properties: {
          department: { type: 'string', enum: [...(departments.length > 0 ? departments : DEPARTMENTS)] },
          reason: { type: 'string' },
        },
        required: ['department', 'reason'],
        additionalProperties: false,
      },
      strict: true,
    },
  };
}

export const OTHER_TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'close_conversation',
      description: 'Close the conversation because the customer said the matter is settled.',
      parameters: {
        type: 'object',
        properties: { reason: { type: 'string' } },
        required: ['reason'],
        additionalProperties: false,
      },
      strict: true,
    },
  },
  {
    type: 'function',
    function: {
      name: 'register_promise',
      description: "Register the customer's commitment to pay an amount by a date with a payment method (collections).",
      parameters: {
        type: 'object',
        properties: {
          amount: { type: 'number', description: "amount in the currency's units, e.g. 150.5" },
          due_date: { type: 'string', description: 'YYYY-MM-DD' },
          method: { type: 'string', enum: [...PAYMENT_METHODS] },
        },
        required: ['amount', 'due_date', 'method'],
        additionalProperties: false,
      },
      strict: true,
    },
  },
];

/** Every tool as a turn sends it, with the built-in departments (the strict-subset test checks these shapes). */
export const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [transferTool(DEPARTMENTS), ...OTHER_TOOLS];

const transferArgs = (departments: readonly string[]) =>
  z.object({
    department: z.string().refine((d) => (departments.length > 0 ? departments : DEPARTMENTS).includes(d)),
    reason: z.string(),
  });
const closeArgs = z.object({ reason: z.string() });

/**
 * `parallel_tool_calls: false` asks for at most one call; should an endpoint send several anyway, the strongest
 * wins (a handoff over a promise over a close) whatever their order, and the others are reported as ignored.
 */
const TOOL_PRECEDENCE = ['handoff', 'promise', 'close'] as const;
function actionFromToolCalls(
  calls: OpenAI.Chat.Completions.ChatCompletionMessageToolCall[] | undefined,
  departments: readonly string[],
): {
  action: AiAction | null;
  ignored: string[];
} {
  const actions = (calls ?? []).flatMap((call) => {
    const action = actionFromToolCall(call, departments);
    return action ? [{ action, name: call.type === 'function' ? call.function.name : call.type }] : [];
  });
  if (actions.length === 0) return { action: null, ignored: [] };
  const rank = (a: AiAction) => TOOL_PRECEDENCE.indexOf(a.type as (typeof TOOL_PRECEDENCE)[number]);
  const chosen = actions.reduce((best, next) => (rank(next.action) < rank(best.action) ? next : best));
  return { action: chosen.action, ignored: actions.filter((a) => a !== chosen).map((a) => a.name) };
}

function actionFromToolCall(
  call: OpenAI.Chat.Completions.ChatCompletionMessageToolCall,
  departments: readonly string[],
): AiAction | null {
  {
    if (call.type !== 'function') return null;
    let args: unknown;
    try {
      args = JSON.parse(call.function.arguments) as unknown;
    } catch (error) {
      throw new AiError(
        `tool ${call.function.name} called with invalid JSON (${(error as Error).name})`,
        'unusable_output',
      );
    }
    if (call.function.name === 'transfer_to_human') {
      const parsed = transferArgs(departments).safeParse(args);
      if (!parsed.success) throw new AiError('transfer_to_human called with invalid arguments', 'unusable_output');
      return { type: 'handoff', ...parsed.data };
    }
    if (call.function.name === 'register_promise') {
      const parsed = promiseArgsSchema.safeParse(args);
      if (!parsed.success) throw new AiError('register_promise called with invalid arguments', 'unusable_output');
      return promiseAction(parsed.data);
    }
    if (call.function.name === 'close_conversation') {
      const parsed = closeArgs.safeParse(args);
      if (!parsed.success) throw new AiError('close_conversation called with invalid arguments', 'unusable_output');
      return { type: 'close', ...parsed.data };
    }
  }
  return null;
}

export function createOpenAiResponder(options: OpenAiResponderOptions): AiResponder {
  // Temporal owns retries: the SDK's own retry loop is off so attempts are visible and bounded in one place.
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs,
  });
  const usageOf = (completion: OpenAI.Chat.Completions.ChatCompletion) =>
    completion.usage
      ? { promptTokens: completion.usage.prompt_tokens, completionTokens: completion.usage.completion_tokens }
      : null;

  return {
    provider: 'openai',
    model: options.model,
    async respond(request: AiTurnRequest): Promise<AiTurnResponse> {
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      try {
        completion = await client.chat.completions.create({
          model: options.model,
          messages: [{ role: 'system', content: request.system }, ...request.history],
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'turn', strict: true, schema: TURN_JSON_SCHEMA },
          },
          tools: [transferTool(request.departments), ...OTHER_TOOLS],
          // Structured outputs are not guaranteed with parallel calls, and a turn takes one action.
          parallel_tool_calls: false,
          ...(request.safetyIdentifier ? { safety_identifier: request.safetyIdentifier } : {}),
          ...(options.maxCompletionTokens ? { max_completion_tokens: options.maxCompletionTokens } : {}),
        });
      } catch (error) {
        throw classifyOpenAiError(error);
      }
      const choice = completion.choices[0];
      const message = choice?.message;
      // A refusal is the model's considered answer: asking twice more gets the same, so no retry (fallback reply).
      if (message?.refusal) throw new AiError('the model refused to answer', 'refusal');
      // Cut at max_completion_tokens: the JSON is partial and a retry would be cut the same way.
      if (choice?.finish_reason === 'length')
        throw new AiError('the answer was cut at max_completion_tokens (finish_reason length)', 'truncated');
      if (choice?.finish_reason === 'content_filter')
        throw new AiError('the answer was withheld by the content filter', 'refusal');
      const { action: toolAction, ignored } = actionFromToolCalls(message?.tool_calls, request.departments);
      const extra = ignored.length > 0 ? { ignoredToolCalls: ignored } : {};
      const content = message?.content;
      if (!content) {
        if (toolAction)
          return {
            output: null,
            action: toolAction,
            model: completion.model || options.model,
            usage: usageOf(completion),
            ...extra,
          };
        throw new AiError('model returned no content', 'unusable_output');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(content) as unknown;
      } catch (error) {
        throw new AiError(`model returned invalid JSON (${(error as Error).name})`, 'unusable_output');
      }
      const output = aiTurnOutputSchema.safeParse(parsed);
      if (!output.success)
        throw new AiError(
          `model output failed validation: ${output.error.issues.map((i) => i.path.join('.')).join(', ')}`,
          'unusable_output',
        );
      return {
        output: output.data,
        action: toolAction ?? actionFromOutput(output.data),
        model: completion.model || options.model,
        usage: usageOf(completion),
        ...extra,
      };
    },

    async summarize(request: AiSummaryRequest): Promise<AiSummaryResponse> {
      const transcript = request.messages
        .map((m) => `${m.role === 'user' ? 'Customer' : 'Assistant'}: ${m.content}`)
        .join('\n');
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      try {
        completion = await client.chat.completions.create({
          model: options.model,
          messages: [
            { role: 'system', content: SUMMARY_INSTRUCTIONS },
            {
              role: 'user',
              content: `${request.previousSummary ? `Earlier summary:\n${request.previousSummary}\n\n` : ''}Messages:\n${transcript}`,
            },
          ],
          ...(request.safetyIdentifier ? { safety_identifier: request.safetyIdentifier } : {}),
          ...(options.maxCompletionTokens ? { max_completion_tokens: options.maxCompletionTokens } : {}),
        });
      } catch (error) {
        throw classifyOpenAiError(error);
      }
      const summary = completion.choices[0]?.message?.content?.trim();
      if (!summary) throw new AiError('model returned an empty summary', 'unusable_output');
      return { summary, model: completion.model || options.model, usage: usageOf(completion) };
    },
  };
}

/**
 * No `cause` on what this returns: the SDK's errors (and JSON.parse's SyntaxError) can quote the request or the
 * model's text, and a cause reaches logs and, through ApplicationFailure, workflow histories.
 */
export function classifyOpenAiError(error: unknown): AiError {
  if (error instanceof OpenAI.APIConnectionTimeoutError || error instanceof OpenAI.APIConnectionError) {
    return new AiError(`AI endpoint unreachable (${error.name})`, 'retryable');
  }
  if (error instanceof OpenAI.APIError) {
    const status: number = typeof error.status === 'number' ? error.status : 0;
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    return new AiError(
      `AI endpoint answered ${status}${typeof error.code === 'string' ? ` (${error.code})` : ''}`,
      retryable ? 'retryable' : 'permanent',
    );
  }
  return new AiError(`AI call failed (${error instanceof Error ? error.name : typeof error})`, 'retryable');
}
