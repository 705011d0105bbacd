import type { IncomingMessage } from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { listenLocal, readBody, sendJson } from './http-server';
import { chatRequestProblem, invalidRequest } from './openai-strict';

export interface ChatRequest {
  model: string;
  /** content: text, or (vision) an array of text and image_url parts. */
  messages: { role: string; content: string }[];
  response_format?: unknown;
  tools?: { type: string; function: { name: string; parameters?: unknown; strict?: boolean } }[];
  parallel_tool_calls?: boolean;
  safety_identifier?: string;
  max_completion_tokens?: number;
  user?: string;
  max_tokens?: number;
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

/** What the fake transcription model hears: a file as uploaded, and the model asked for. */
export interface UploadedAudio {
  name: string;
  type: string;
  data: Buffer;
  model: string;
  language: string | null;
}
export type TranscriptionHandler = (file: UploadedAudio) => { text: string } | { status: number; body: unknown };
/** What the fake vision model sees: each image part's bytes and media type. */
export type VisionHandler = (images: { type: string; data: Buffer; detail: string }[]) => string;

/** The formats `/v1/audio/transcriptions` documents (by file extension), and its 25 MB upload limit. */
const AUDIO_FORMATS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'];
const AUDIO_MAX_BYTES = 25 * 1024 * 1024;
/** Image types the vision guide documents: PNG, JPEG, WEBP and non-animated GIF. */
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

/** Raw bytes of a request body (multipart uploads). */
async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `/v1/audio/transcriptions` as documented: multipart `file` + `model`; `{ text }` for response_format json. */
async function transcription(req: IncomingMessage, transcriber: TranscriptionHandler, log: UploadedAudio[]) {
  const raw = await readRaw(req);
  let form: FormData;
  try {
    form = await new Request('http://fake/v1/audio/transcriptions', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: raw,
    }).formData();
  } catch {
    return invalidRequest('Could not parse multipart form', null);
  }
  const file = form.get('file');
  const model = form.get('model');
  if (!(file instanceof File)) return invalidRequest("you must provide a 'file' parameter", 'file');
  if (typeof model !== 'string' || !model) return invalidRequest("you must provide a 'model' parameter", 'model');
  const extension = file.name.split('.').pop()?.toLowerCase() ?? '';
  if (!AUDIO_FORMATS.includes(extension))
    return invalidRequest(
      `Invalid file format. Supported formats: ${JSON.stringify(AUDIO_FORMATS)}`,
      'file',
      'invalid_value',
    );
  if (file.size > AUDIO_MAX_BYTES)
    return {
      status: 413,
      body: {
        error: {
          message: 'Maximum content size limit (26214400) exceeded',
          type: 'invalid_request_error',
          param: 'file',
          code: null,
        },
      },
    };
  const language = form.get('language');
  const upload: UploadedAudio = {
    name: file.name,
    type: file.type,
    data: Buffer.from(await file.arrayBuffer()),
    model,
    language: typeof language === 'string' ? language : null,
  };
  log.push(upload);
  const answer = transcriber(upload);
  return 'status' in answer ? answer : { status: 200, body: { text: answer.text } };
}

type Part = { type: string; text?: string; image_url?: { url: string; detail?: string } };

/** The image parts of a chat request, checked as OpenAI does; null when the request has none. */
function imageParts(
  request: ChatRequest,
): { images: { type: string; data: Buffer; detail: string }[] } | ReturnType<typeof invalidRequest> | null {
  const images: { type: string; data: Buffer; detail: string }[] = [];
  for (const [i, message] of request.messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content as Part[]) {
      if (part.type !== 'image_url') continue;
      if (message.role !== 'user')
        return invalidRequest(
          `Image URLs are only allowed for messages with role 'user', but this message with role '${message.role}' contains an image URL.`,
          `messages.[${i}].content`,
        );
      const url = part.image_url?.url ?? '';
      const detail = part.image_url?.detail ?? 'auto';
      if (!['auto', 'low', 'high'].includes(detail))
        return invalidRequest(
          `Invalid value: '${detail}'. Supported values are: 'auto', 'low', and 'high'.`,
          `messages.[${i}].content.image_url.detail`,
        );
      const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
      // A remote URL would be fetched by OpenAI: Twilio's need credentials, so only inline data is expected here.
      if (!data)
        return invalidRequest(
          'Invalid image URL: expected a base64 data URL in this test double',
          `messages.[${i}].content.image_url.url`,
        );
      if (!IMAGE_TYPES.includes(data[1]!))
        return invalidRequest(
          "You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
          `messages.[${i}].content`,
          'invalid_image_format',
        );
      images.push({ type: data[1]!, data: Buffer.from(data[2]!, 'base64'), detail });
    }
  }
  return images.length > 0 ? { images } : null;
}

/** A local OpenAI-compatible `/v1/chat/completions` for the real openai SDK, with a swappable handler. */
export async function startFakeOpenAi() {
  const requests: ChatRequest[] = [];
  const rejected: { message: string; param: string | null }[] = [];
  const transcriptions: UploadedAudio[] = [];
  const visions: { type: string; data: Buffer; detail: string }[][] = [];
  let handler: ChatHandler = echoHandler;
  let transcriber: TranscriptionHandler = (file) => ({ text: `(${file.data.length} bytes of audio)` });
  let vision: VisionHandler = (images) => `${images.length} image(s)`;
  const server = await listenLocal(async (req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/audio/transcriptions')) {
      const answer = await transcription(req, transcriber, transcriptions);
      if (answer.status !== 200 && typeof answer.body === 'object')
        rejected.push((answer.body as { error: { message: string; param: string | null } }).error);
      return sendJson(res, answer.status, answer.body);
    }
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
    const seen = imageParts(request);
    if (seen && 'status' in seen) {
      rejected.push(seen.body.error);
      return sendJson(res, seen.status, seen.body);
    }
    if (seen) visions.push(seen.images);
    recordRequest(request);
    const result: ChatResult = seen ? { content: vision(seen.images) } : await handler(request);
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
    /** Files posted to /v1/audio/transcriptions, and the image parts of vision requests, in order. */
    transcriptions,
    visions,
    setTranscriber(next: TranscriptionHandler) {
      transcriber = next;
    },
    setVision(next: VisionHandler) {
      vision = next;
    },
    close: () => server.close(),
  };
}

export type FakeOpenAi = Awaited<ReturnType<typeof startFakeOpenAi>>;
