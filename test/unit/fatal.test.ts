import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeFatal } from '../../src/fatal';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('fatal errors in the standalone processes', () => {
  it('an exception thrown from a setImmediate is logged without credentials and exits 1', () => {
    // The shape of the postgres.js crash (issue 10): thrown from a timer, nothing can catch it.
    const script = `
      import { exitOnFatalErrors } from './src/fatal.ts';
      import { createLogger } from './src/logger.ts';
      exitOnFatalErrors(createLogger('info', { name: 'worker' }));
      setImmediate(() => { throw new TypeError("Cannot read properties of null (reading 'write') at postgres://causeway:s3cret@db:5432/x"); });
      setTimeout(() => process.exit(0), 5000);
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    const line = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string; error: { type: string; message: string } })
      .find((l) => l.level === 60);
    expect(line?.msg).toContain('uncaught exception');
    expect(line?.error.type).toBe('TypeError');
    expect(result.stdout + result.stderr).not.toContain('s3cret');
  });

  it('an unhandled rejection exits 1 as well', () => {
    const script = `
      import { exitOnFatalErrors } from './src/fatal.ts';
      import { createLogger } from './src/logger.ts';
      exitOnFatalErrors(createLogger('info'));
      void Promise.reject(new Error('lost'));
      setTimeout(() => process.exit(0), 5000);
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('unhandled promise rejection');
  });

  it('masks the password of any URL in a message or stack', () => {
    expect(describeFatal(new Error('connect postgres://u:pw@h:5432/db failed')).message).toBe(
      'connect postgres://***:***@h:5432/db failed',
    );
    expect(describeFatal('plain').message).toBe('plain');
  });
});
