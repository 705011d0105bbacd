import OpenAI, { toFile } from 'openai';
import { AiError } from './ai';
import { classifyOpenAiError } from './openai-responder';

/**
 * Issue 23 C, hearing and seeing: a voice note becomes text through the OpenAI-compatible
 * `/v1/audio/transcriptions` (multipart: file + model), an image a short description from a vision-capable chat
 * model (an `image_url` content part carrying the image as a data URL: Twilio's media links need credentials the
 * model must never see). Each is off when its model is not configured (an endpoint without that capability).
 */
export interface MediaUnderstanding {
  /** null: no transcription model (voice notes stay `[audio 0:12]`). */
  readonly transcribeModel: string | null;
  readonly visionModel: string | null;
  transcribe(audio: Buffer, contentType: string, options: { language?: string }): Promise<string>;
  describe(image: Buffer, contentType: string, options: { language?: string }): Promise<string>;
}

export interface MediaUnderstandingOptions {
  apiKey: string;
  baseURL?: string;
  transcribeModel: string | null;
  visionModel: string | null;
  timeoutMs: number;
}

/** File names by type: the endpoint infers the format from the name (flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav, webm). */
const AUDIO_EXTENSIONS: Record<string, string> = {
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/mp4': 'm4a',
  'audio/m4a': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/aac': 'm4a',
  'audio/amr': 'amr',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
};

const DESCRIBE_INSTRUCTIONS =
  'Describe this image a customer sent to a customer-service chat in at most 3 short sentences, in the language given. Transcribe any visible text that matters (amounts, codes, dates, error messages). Do not guess identities.';

export function createMediaUnderstanding(options: MediaUnderstandingOptions): MediaUnderstanding {
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs,
  });
  return {
    transcribeModel: options.transcribeModel,
    visionModel: options.visionModel,
    async transcribe(audio, contentType, { language }) {
      if (!options.transcribeModel) throw new AiError('no transcription model configured', 'permanent');
      const type = contentType.split(';')[0]!.trim().toLowerCase();
      const file = await toFile(audio, `voice-note.${AUDIO_EXTENSIONS[type] ?? 'ogg'}`, { type });
      let result: { text: string };
      try {
        result = await client.audio.transcriptions.create({
          file,
          model: options.transcribeModel,
          ...(language ? { language: language.slice(0, 2) } : {}),
          response_format: 'json',
        });
      } catch (error) {
        throw classifyOpenAiError(error);
      }
      const text = result.text?.trim();
      if (!text) throw new AiError('the transcription came back empty', 'unusable_output');
      return text;
    },
    async describe(image, contentType, { language }) {
      if (!options.visionModel) throw new AiError('no vision model configured', 'permanent');
      const type = contentType.split(';')[0]!.trim().toLowerCase();
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      try {
        completion = await client.chat.completions.create({
          model: options.visionModel,
          max_completion_tokens: 300,
          messages: [
            { role: 'system', content: DESCRIBE_INSTRUCTIONS },
            {
              role: 'user',
              content: [
                { type: 'text', text: `Language: ${language ?? 'pt-BR'}` },
                {
                  type: 'image_url',
                  image_url: { url: `data:${type};base64,${image.toString('base64')}`, detail: 'low' },
                },
              ],
            },
          ],
        });
      } catch (error) {
        throw classifyOpenAiError(error);
      }
      const message = completion.choices[0]?.message;
      if (message?.refusal) throw new AiError('the vision model refused to describe the image', 'refusal');
      const text = message?.content?.trim();
      if (!text) throw new AiError('the image description came back empty', 'unusable_output');
      return text;
    },
  };
}
