import type { Env } from './env';

export type AiProviderName = 'openai' | 'scripted';

export class AiProviderError extends Error {
  override readonly name = 'AiProviderError';
}

/**
 * Which responder answers customers. AI_PROVIDER says it explicitly; unset, a key means OpenAI. Without a key the
 * offline keyword bot is a demo, not an assistant: `npm start` chooses it openly (it passes AI_PROVIDER=scripted to
 * its children and prints so), a development worker falls back to it with a warning, and production refuses to start
 * rather than answer real customers with keyword rules (as it does without CAUSEWAY_PAYLOAD_KEYS).
 */
export function chooseAiProvider(
  env: Pick<Env, 'AI_PROVIDER' | 'OPENAI_API_KEY' | 'NODE_ENV'>,
  what = 'the worker',
): { provider: AiProviderName; warning?: string } {
  if (env.AI_PROVIDER === 'scripted') return { provider: 'scripted' };
  if (env.OPENAI_API_KEY) return { provider: 'openai' };
  if (env.AI_PROVIDER === 'openai')
    throw new AiProviderError(
      `${what} refuses to start: AI_PROVIDER=openai but OPENAI_API_KEY is not set (set the key, or AI_PROVIDER=scripted for the offline keyword responder)`,
    );
  if (env.NODE_ENV === 'production')
    throw new AiProviderError(
      `${what} refuses to start in production without OPENAI_API_KEY: customers would be answered by the offline keyword responder (set OPENAI_API_KEY, or AI_PROVIDER=scripted to choose that responder on purpose)`,
    );
  return {
    provider: 'scripted',
    warning: `${what}: no OPENAI_API_KEY and no AI_PROVIDER: answering with the offline scripted responder (keyword rules, not a model); allowed outside NODE_ENV=production only`,
  };
}
