import { describe, expect, it } from 'vitest';
import { createStaleIfErrorCache } from '../../src/api/tenant-cache';

describe('tenant cache re-check (a rotated auth token works at once)', () => {
  it('a reload right after a load reads the database again, and concurrent reloads share one query', async () => {
    let token = 'old';
    let queries = 0;
    let release: (() => void) | null = null;
    let clock = 0;
    const lookup = createStaleIfErrorCache(
      async (_sid: string) => {
        queries += 1;
        if (release === null) return { token };
        await new Promise<void>((resolve) => (release = resolve));
        return { token };
      },
      { ttlMs: 60_000, maxEntries: 10, now: () => clock },
    );
    expect(await lookup('AC1')).toEqual({ token: 'old' });
    token = 'new';
    // Within the TTL the cached value is served; a re-check (failed signature) reads the rotated one at once.
    expect(await lookup('AC1')).toEqual({ token: 'old' });
    expect(await lookup.reload('AC1')).toEqual({ token: 'new' });
    expect(queries).toBe(2);
    // A burst of re-checks while one is in flight: one query for all of them.
    clock += 1_000;
    release = () => undefined;
    const burst = Promise.all([lookup.reload('AC1'), lookup.reload('AC1'), lookup.reload('AC1')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queries).toBe(3);
    release();
    expect(await burst).toEqual([{ token: 'new' }, { token: 'new' }, { token: 'new' }]);
    expect(await lookup('AC1')).toEqual({ token: 'new' });
  });
});

describe('issue 18 D: forged webhooks cannot buy database reads', () => {
  it('a flood of failed signatures re-reads a key at most once per interval; an unknown key is remembered', async () => {
    let queries = 0;
    let clock = 0;
    const lookup = createStaleIfErrorCache(
      async (sid: string) => {
        queries += 1;
        await Promise.resolve();
        return sid === 'AC1' ? { token: 't' } : null;
      },
      { ttlMs: 10_000, maxEntries: 100, now: () => clock },
    );
    await lookup('AC1');
    expect(queries).toBe(1);
    // 1,000 forged webhooks (each failing its signature, each asking for a re-read) in under a second: one query.
    for (let i = 0; i < 1_000; i++) {
      await lookup.reload('AC1');
      clock += 0.5;
    }
    expect(queries).toBe(2);
    clock += 1_000;
    await lookup.reload('AC1');
    expect(queries).toBe(3);
    // An unknown account named 1,000 times: one query until the negative entry expires.
    for (let i = 0; i < 1_000; i++) expect(await lookup('AC-unknown')).toBeNull();
    expect(queries).toBe(4);
    clock += 10_001;
    await lookup('AC-unknown');
    expect(queries).toBe(5);
  });
});
