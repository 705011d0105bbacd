import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childProcessEnv } from '../../src/config/env';
import { hasHeapLimit, workerHeapMb, workerNodeOptions, workerNodeOptionsFor } from '../../src/config/worker-heap';

const ROOT = path.resolve(import.meta.dirname, '../..');
const limit = (mb: number) => `--max-old-space-size=${mb}`;

describe('the worker heap limit (issue 25 B)', () => {
  it('grows with the workflow cache', () => {
    expect(workerHeapMb(1000) - workerHeapMb(500)).toBeGreaterThan(0);
    expect(workerHeapMb(0)).toBeGreaterThan(0);
  });

  it("adds the limit to an operator's NODE_OPTIONS, and keeps theirs when they set one", () => {
    expect(workerNodeOptions(undefined, 500)).toBe(limit(workerHeapMb(500)));
    expect(workerNodeOptions('  ', 500)).toBe(limit(workerHeapMb(500)));
    expect(workerNodeOptions('--enable-source-maps', 200)).toBe(`--enable-source-maps ${limit(workerHeapMb(200))}`);
    for (const own of ['--max-old-space-size=4096', '--inspect --max_old_space_size=3000', '--max-old-space-size 2048'])
      expect(workerNodeOptions(own, 500)).toBe(own);
    // Another V8 size flag is not this one.
    expect(workerNodeOptions('--max-semi-space-size=64', 500)).toBe(
      `--max-semi-space-size=64 ${limit(workerHeapMb(500))}`,
    );
  });

  it('reads WORKER_MAX_CACHED_WORKFLOWS as the worker does, and adds nothing for a value it refuses', () => {
    expect(workerNodeOptionsFor({})).toBe(limit(workerHeapMb(500)));
    expect(workerNodeOptionsFor({ WORKER_MAX_CACHED_WORKFLOWS: '2000' })).toBe(limit(workerHeapMb(2000)));
    expect(workerNodeOptionsFor({ WORKER_MAX_CACHED_WORKFLOWS: 'lots', NODE_OPTIONS: '--trace-gc' })).toBe(
      '--trace-gc',
    );
  });

  it('tells whether the process got a limit on its command line or in NODE_OPTIONS', () => {
    expect(hasHeapLimit(['--import', 'tsx'], undefined)).toBe(false);
    expect(hasHeapLimit([limit(900)], undefined)).toBe(true);
    expect(hasHeapLimit([], limit(900))).toBe(true);
  });

  it("`npm run worker` starts worker.ts with the limit and the caller's NODE_OPTIONS (package.json, through sh)", () => {
    const script = (
      JSON.parse(spawnSync('npm', ['pkg', 'get', 'scripts.worker'], { cwd: ROOT, encoding: 'utf8' }).stdout) as string
    )
      // The same shell line, with `node -p` in place of the worker: what its NODE_OPTIONS would be.
      .replace(/tsx worker\.ts$/, 'node -p process.env.NODE_OPTIONS');
    const run = spawnSync('sh', ['-c', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: childProcessEnv({
        PATH: `${path.join(ROOT, 'node_modules/.bin')}:${childProcessEnv({}).PATH ?? ''}`,
        NODE_OPTIONS: '--enable-source-maps',
        WORKER_MAX_CACHED_WORKFLOWS: '300',
      }),
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(`--enable-source-maps ${limit(workerHeapMb(300))}`);
  }, 60_000);
});
