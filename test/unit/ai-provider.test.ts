import { describe, expect, it } from 'vitest';
import { AiProviderError, chooseAiProvider } from '../../src/config/ai-provider';
import { loadEnv } from '../../src/config/env';

describe('AI_PROVIDER (B)', () => {
  it('parses openai|scripted, empty as unset, and rejects anything else; AI_MAX_COMPLETION_TOKENS defaults to 1024', () => {
    expect(loadEnv({}).AI_PROVIDER).toBeUndefined();
    expect(loadEnv({ AI_PROVIDER: '' }).AI_PROVIDER).toBeUndefined();
    expect(loadEnv({ AI_PROVIDER: 'scripted' }).AI_PROVIDER).toBe('scripted');
    expect(() => loadEnv({ AI_PROVIDER: 'anthropic' })).toThrow(/AI_PROVIDER/);
    expect(loadEnv({}).AI_MAX_COMPLETION_TOKENS).toBe(1024);
    expect(() => loadEnv({ AI_MAX_COMPLETION_TOKENS: '0' })).toThrow(/AI_MAX_COMPLETION_TOKENS/);
  });

  it('chooses openai with a key, scripted when told, and refuses a silent fallback in production', () => {
    const key = 'sk-x';
    expect(chooseAiProvider({ NODE_ENV: 'production', OPENAI_API_KEY: key })).toEqual({ provider: 'openai' });
    expect(chooseAiProvider({ NODE_ENV: 'production', AI_PROVIDER: 'scripted' })).toEqual({ provider: 'scripted' });
    expect(chooseAiProvider({ NODE_ENV: 'production', AI_PROVIDER: 'scripted', OPENAI_API_KEY: key }).provider).toBe(
      'scripted',
    );
    expect(() => chooseAiProvider({ NODE_ENV: 'production' })).toThrow(AiProviderError);
    expect(() => chooseAiProvider({ NODE_ENV: 'production', AI_PROVIDER: 'openai' })).toThrow(/OPENAI_API_KEY/);
    expect(() => chooseAiProvider({ NODE_ENV: 'development', AI_PROVIDER: 'openai' })).toThrow(/OPENAI_API_KEY/);
    const dev = chooseAiProvider({ NODE_ENV: 'development' });
    expect(dev.provider).toBe('scripted');
    expect(dev.warning).toMatch(/scripted responder/);
  });
});
