import fs from 'node:fs';
import path from 'node:path';
import { listenLocal, readBody, sendJson } from './http-server';
import { chatRequestProblem } from './openai-strict';

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: unknown;
  tools?: { type: string; function: { name: string; parameters?: unknown; strict?: boolean } }[];
  parallel_tool_calls?: boolean;
  safety_identifier?: string;
  max_completion_tokens?: number;
  user?: string;
}

export type ChatResult =
  | { status: number; body: unknown }
  | {
      content: string | null;
      /** Several calls in one answer are parallel tool calls (what `parallel_tool_calls: false` rules out). */
      toolCalls?: { name: string; arguments: Record<string, unknown> }[];
      /** The model declined: `message.refusal` carries its words and `content` is null, as OpenAI documents. */
      refusal?: string;
      /** 'length': the output was cut at max_completion_tokens (content is the partial text). */
      finishReason?: 'stop' | 'length' | 'content_filter';
    };
export type ChatHandler = (request: ChatRequest) => ChatResult | Promise<ChatResult>;

/** A structured turn as the model would return it. */
export const turn = (
  reply: string,
  extra: Partial<{ intent: string; sentiment: string; urgency: string; confidence: number; wants_human: boolean }> = {},
) => ({
  content: JSON.stringify({
    reply,
    intent: 'other',
    sentiment: 'neutral',
    urgency: 'low',
    confidence: 0.9,
    wants_human: false,
    ...extra,
  }),
});

/**
 * An error answer shaped as OpenAI documents it (`{ error: { message, type, param, code } }`): 500 server_error,
 * 503 overloaded, 429 rate limit. The SDK turns these into APIError subclasses with the status.
 */
export const openAiError = (status: 429 | 500 | 503): ChatResult => ({
  status,
  body: {
    error:
      status === 429
        ? { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' }
        : status === 503
          ? {
              message: 'The engine is currently overloaded, please try again later',
              type: 'server_error',
              param: null,
              code: null,
            }
          : {
              message: 'The server had an error while processing your request. Sorry about that!',
              type: 'server_error',
              param: null,
              code: null,
            },
  },
});

/** A refusal as structured outputs return it: no content, the model's words in `message.refusal`. */
export const refusal = (words = "I'm sorry, I can't assist with that request."): ChatResult => ({
  content: null,
  refusal: words,
});

/** An answer cut at max_completion_tokens: the structured turn's JSON stops mid-way, finish_reason 'length'. */
export const truncated = (reply = 'Olá! Sobre a sua fatura, o valor'): ChatResult => ({
  content: JSON.stringify({ reply, intent: 'billing' }).slice(0, 30),
  finishReason: 'length',
});

// The request the real responder sends, written once per test process for a reviewer to hold against OpenAI's
// API reference (test-results/openai-request.json).
let recorded = false;
function recordRequest(request: ChatRequest) {
  if (recorded || !request.response_format) return;
  recorded = true;
  const dir = path.resolve('test-results');
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `openai-request.${process.pid}.json`);
  fs.writeFileSync(tmp, JSON.stringify({ endpoint: 'POST /v1/chat/completions', body: request }, null, 2));
  fs.renameSync(tmp, path.join(dir, 'openai-request.json'));
}

/** The default model: a valid structured turn whose reply quotes the customer's last message. */
export const echoHandler: ChatHandler = (request) => {
  if (!request.response_format) return { content: `Summary of ${request.messages.length} messages` };
  const last = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  return {
    content: JSON.stringify({
      reply: `Echo: ${last}`,
      intent: 'echo',
      sentiment: 'neutral',
      urgency: 'low',
      confidence: 0.9,
      wants_human: false,
    }),
  };
};

/** A local OpenAI-compatible `/v1/chat/completions` for the real openai SDK, with a swappable handler. */
export async function startFakeOpenAi() {
  const requests: ChatRequest[] = [];
  const rejected: { message: string; param: string | null }[] = [];
  let handler: ChatHandler = echoHandler;
  const server = await listenLocal(async (req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions'))
      return sendJson(res, 404, { error: { message: 'not found' } });
    const request = JSON.parse(await readBody(req)) as ChatRequest;
    requests.push(request);
    // OpenAI refuses a request breaking the strict-schema or tool rules before any model runs: 400, its error shape.
    const problem = chatRequestProblem(request as unknown as Record<string, unknown>);
    if (problem) {
      rejected.push(problem.body.error);
      return sendJson(res, problem.status, problem.body);
    }
    recordRequest(request);
    const result = await handler(request);
    if ('status' in result) return sendJson(res, result.status, result.body);
    const toolCalls =
      'toolCalls' in result && result.toolCalls
        ? result.toolCalls.map((call, i) => ({
            id: `call_${requests.length}_${i}`,
            type: 'function',
            function: { name: call.name, arguments: JSON.stringify(call.arguments) },
          }))
        : undefined;
    sendJson(res, 200, {
      id: `chatcmpl-${requests.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      choices: [
        {
          index: 0,
          finish_reason: result.finishReason ?? (toolCalls ? 'tool_calls' : 'stop'),
          message: {
            role: 'assistant',
            content: result.content,
            refusal: result.refusal ?? null,
            ...(toolCalls ? { tool_calls: toolCalls } : {}),
          },
        },
      ],
      usage: { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 },
    });
  });
  return {
    url: `${server.url}/v1`,
    requests,
    /** Requests answered 400 for breaking OpenAI's request rules (a test that expects none asserts it is empty). */
    rejected,
    setHandler(next: ChatHandler) {
      handler = next;
    },
    close: () => server.close(),
  };
}

export type FakeOpenAi = Awaited<ReturnType<typeof startFakeOpenAi>>;
