import { describe, expect, it } from 'vitest';
import { createStaleIfErrorCache } from '../../src/api/tenant-cache';

describe('tenant cache re-check (a rotated auth token works at once)', () => {
  it('a reload right after a load reads the database again, and concurrent reloads share one query', async () => {
    let token = 'old';
    let queries = 0;
    let release: (() => void) | null = null;
    const lookup = createStaleIfErrorCache(
      async (_sid: string) => {
        queries += 1;
        if (release === null) return { token };
        await new Promise<void>((resolve) => (release = resolve));
        return { token };
      },
      { ttlMs: 60_000, maxEntries: 10 },
    );
    expect(await lookup('AC1')).toEqual({ token: 'old' });
    token = 'new';
    // Within the TTL the cached value is served; a re-check (failed signature) reads the rotated one at once.
    expect(await lookup('AC1')).toEqual({ token: 'old' });
    expect(await lookup.reload('AC1')).toEqual({ token: 'new' });
    expect(queries).toBe(2);
    // A burst of re-checks while one is in flight: one query for all of them.
    release = () => undefined;
    const burst = Promise.all([lookup.reload('AC1'), lookup.reload('AC1'), lookup.reload('AC1')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queries).toBe(3);
    release();
    expect(await burst).toEqual([{ token: 'new' }, { token: 'new' }, { token: 'new' }]);
    expect(await lookup('AC1')).toEqual({ token: 'new' });
  });
});
