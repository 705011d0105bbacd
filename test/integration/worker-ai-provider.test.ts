import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childProcessEnv } from '../../src/config/env';

const ROOT = path.resolve(import.meta.dirname, '../..');

// Starts the real worker entry (a process that loads the Temporal SDK, seconds of imports): an integration test, kept
// out of `npm run test:unit`; the provider choice itself is unit-tested in test/unit/ai-provider.test.ts.
describe('AI_PROVIDER (B): the worker process', () => {
  it('a production worker without OPENAI_API_KEY stops before connecting anywhere, saying why', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'worker.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: childProcessEnv({
        NODE_ENV: 'production',
        OPENAI_API_KEY: '',
        AI_PROVIDER: '',
        // Unreachable on purpose: the check comes first, so nothing is dialled.
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        CAUSEWAY_SECRETS_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        CAUSEWAY_PAYLOAD_KEYS: `p1:${randomBytes(32).toString('base64')}`,
        LOG_LEVEL: 'silent',
      }),
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('refuses to start in production without OPENAI_API_KEY');
  });
});
