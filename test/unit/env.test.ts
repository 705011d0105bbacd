import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../src/config/env';

const issuesOf = (source: Record<string, string>) => {
  try {
    loadEnv(source);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('env', () => {
  it('applies the documented defaults', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      PUBLIC_BASE_URL: 'http://localhost:3000',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'causeway',
      TWILIO_API_BASE_URL: 'https://api.twilio.com',
      MESSAGE_DEBOUNCE: 2000,
      CONVERSATION_IDLE_AFTER: 600_000,
      CONVERSATION_CLOSE_AFTER: 1_800_000,
      NPS_WAIT: 86_400_000,
      LOG_LEVEL: 'info',
      WORKER_MAX_CACHED_WORKFLOWS: 500,
      RECONCILE_MAX_LOOKBACK: 7 * 86_400_000,
      // Issue 18 E and H.
      AI_MAX_TURNS_PER_CONVERSATION_HOUR: 30,
      AI_MAX_TOKENS_PER_TENANT_DAY: 5_000_000,
      AI_MAX_COMPLETION_TOKENS: 1024,
      PROMISE_MAX_DAYS_AHEAD: 60,
      RETENTION_MESSAGE_BODIES: 180 * 86_400_000,
      RETENTION_AI_TEXTS: 180 * 86_400_000,
    });
    expect(loadEnv({ RETENTION_MESSAGE_BODIES: 'off' }).RETENTION_MESSAGE_BODIES).toBeNull();
    expect(loadEnv({ AI_MAX_TURNS_PER_CONVERSATION_HOUR: '5' }).AI_MAX_TURNS_PER_CONVERSATION_HOUR).toBe(5);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('DELIVERY_RETRY_BACKOFF: 30 s by default, a duration otherwise (issue 22 B)', () => {
    expect(loadEnv({}).DELIVERY_RETRY_BACKOFF).toBe(30_000);
    expect(loadEnv({ DELIVERY_RETRY_BACKOFF: '2m' }).DELIVERY_RETRY_BACKOFF).toBe(120_000);
    expect(issuesOf({ DELIVERY_RETRY_BACKOFF: 'later' }).join('\n')).toMatch(/DELIVERY_RETRY_BACKOFF/);
  });

  it('derives PUBLIC_BASE_URL from PORT and strips a trailing slash', () => {
    expect(loadEnv({ PORT: '8080' }).PUBLIC_BASE_URL).toBe('http://localhost:8080');
    expect(loadEnv({ PUBLIC_BASE_URL: 'https://bot.example.com/' }).PUBLIC_BASE_URL).toBe('https://bot.example.com');
  });

  it('names every bad field', () => {
    const issues = issuesOf({ PORT: 'eighty', MESSAGE_DEBOUNCE: 'soon', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url' });
    expect(issues.join('\n')).toMatch(/PORT/);
    expect(issues.join('\n')).toMatch(/MESSAGE_DEBOUNCE: invalid duration "soon"/);
    expect(issues.join('\n')).toMatch(/LOG_LEVEL/);
    expect(issues.join('\n')).toMatch(/DATABASE_URL/);
  });

  it('wants the Twilio credentials together, and a close after the idle time', () => {
    expect(issuesOf({ TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}` }).join()).toMatch(/together/);
    expect(
      issuesOf({ TWILIO_ACCOUNT_SID: 'nope', TWILIO_AUTH_TOKEN: 't', TWILIO_PHONE_NUMBER: '+15550100000' }).join(),
    ).toMatch(/AC followed by 32 hex/);
    expect(issuesOf({ CONVERSATION_IDLE_AFTER: '30m', CONVERSATION_CLOSE_AFTER: '10m' }).join()).toMatch(
      /CONVERSATION_CLOSE_AFTER/,
    );
  });

  it('reads the desk durations (issue 20): human close 24h and SLAs 15m by default, any duration when set', () => {
    expect(loadEnv({})).toMatchObject({
      HUMAN_CLOSE_AFTER: 86_400_000,
      DESK_FIRST_RESPONSE_SLA: 900_000,
      DESK_NEXT_RESPONSE_SLA: 900_000,
    });
    expect(loadEnv({ HUMAN_CLOSE_AFTER: '2s', DESK_FIRST_RESPONSE_SLA: '1h' })).toMatchObject({
      HUMAN_CLOSE_AFTER: 2000,
      DESK_FIRST_RESPONSE_SLA: 3_600_000,
    });
    expect(issuesOf({ HUMAN_CLOSE_AFTER: 'tomorrow' }).join()).toMatch(/HUMAN_CLOSE_AFTER/);
  });

  it('reads INBOUND_OUTCOME_SLA (issue 21 D): 2m by default, any duration when set', () => {
    expect(loadEnv({}).INBOUND_OUTCOME_SLA).toBe(120_000);
    expect(loadEnv({ INBOUND_OUTCOME_SLA: '30s' }).INBOUND_OUTCOME_SLA).toBe(30_000);
    expect(issuesOf({ INBOUND_OUTCOME_SLA: 'soon' }).join()).toMatch(/INBOUND_OUTCOME_SLA/);
  });

  it('treats empty strings as unset', () => {
    expect(loadEnv({ OPENAI_API_KEY: '', DATABASE_URL: '' }).OPENAI_API_KEY).toBeUndefined();
  });
});
