import { listenLocal, readBody, sendJson } from './http-server';

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: unknown;
  user?: string;
  /** The output cap (issue 18 E: the service sets it on every call). */
  max_completion_tokens?: number;
  max_tokens?: number;
}

export type ChatResult =
  | { status: number; body: unknown }
  | { content: string | null; toolCalls?: { name: string; arguments: Record<string, unknown> }[] };
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
  let handler: ChatHandler = echoHandler;
  const server = await listenLocal(async (req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions'))
      return sendJson(res, 404, { error: { message: 'not found' } });
    const request = JSON.parse(await readBody(req)) as ChatRequest;
    requests.push(request);
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
          finish_reason: toolCalls ? 'tool_calls' : 'stop',
          message: {
            role: 'assistant',
            content: result.content,
            refusal: null,
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
    setHandler(next: ChatHandler) {
      handler = next;
    },
    close: () => server.close(),
  };
}

export type FakeOpenAi = Awaited<ReturnType<typeof startFakeOpenAi>>;
