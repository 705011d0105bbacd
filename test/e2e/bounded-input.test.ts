import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenFor } from '../../src/api/console/session';
import { startHarness, type Harness } from '../support/harness';

// Issue 18 D, written as the attacks: unauthenticated huge bodies against every route (the API runs in this test's
// process, so its memory is this process's), oversized headers and URLs, and a flood of sign-in attempts.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const MiB = 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024).fill(0x61);

/**
 * POSTs up to `total` bytes produced lazily (chunked, no Content-Length) and resolves with the status as soon as
 * the API answers; then stops sending. Also returns how much was sent before the answer.
 */
function hugePost(path: string, headers: Record<string, string>, total = 512 * MiB) {
  return new Promise<{ status: number; sent: number }>((resolve, reject) => {
    const url = new URL(path, h.apiUrl);
    let sent = 0;
    let answered = false;
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers },
      (res) => {
        answered = true;
        res.resume();
        resolve({ status: res.statusCode ?? 0, sent });
        req.destroy();
      },
    );
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const pump = () => {
      while (!answered && sent < total) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

const rss = () => process.memoryUsage().rss;

describe('issue 18 D: bounded input', () => {
  it('a 512 MB POST to each route is answered 413 after at most its limit, and the API process memory stays flat', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const admin = await h.createOperator(tenant, 'ADMIN');
    const signIn = await h.app.request(`${h.apiUrl}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: supervisor.apiKey }).toString(),
    });
    const session = /causeway_console=([\w-]+);/.exec(signIn.headers.get('set-cookie')!)![1]!;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const json = { 'content-type': 'application/json' };
    const routes: [string, Record<string, string>, number][] = [
      ['/webhooks/twilio/messages', { ...form, 'x-twilio-signature': 'x' }, 64 * 1024],
      ['/webhooks/twilio/messages/fallback', form, 64 * 1024],
      ['/webhooks/twilio/status', form, 64 * 1024],
      ['/console/sign-in', form, 4 * 1024],
      ['/codec/session', form, 4 * 1024],
      ['/codec/decode', { ...json, authorization: `Bearer ${supervisor.apiKey}` }, 8 * MiB],
      ['/codec/encode', { ...json, authorization: `Bearer ${supervisor.apiKey}` }, 8 * MiB],
      [
        `/console/conversations/${crypto.randomUUID()}/reply`,
        { ...form, cookie: `causeway_console=${session}` },
        256 * 1024,
      ],
      [
        '/api/conversations/00000000-0000-0000-0000-000000000000/messages',
        { ...json, authorization: `Bearer ${admin.apiKey}` },
        256 * 1024,
      ],
      ['/api/admin/prompts', { ...json, authorization: `Bearer ${admin.apiKey}` }, 256 * 1024],
      ['/api/payments', { ...json, authorization: `Bearer ${admin.apiKey}` }, 256 * 1024],
      ['/healthz', json, 16 * 1024],
      ['/no/such/route', json, 16 * 1024],
    ];
    // Warm up (first requests allocate lazily), then measure.
    await hugePost('/healthz', json, 32 * 1024);
    global.gc?.();
    const before = rss();
    let peak = before;
    for (const [path, headers, limit] of routes) {
      const { status, sent } = await hugePost(path, headers);
      expect(status, path).toBe(413);
      // Refused near its limit (plus what sockets buffer), not after reading the 512 MB.
      expect(sent, path).toBeLessThan(limit + 32 * MiB);
      peak = Math.max(peak, rss());
    }
    // Sent: 13 × (limit + buffers). A body buffered in full would add 512 MB per route.
    expect(peak - before).toBeLessThan(150 * MiB);
    // The process still answers.
    expect((await fetch(`${h.apiUrl}/healthz`)).status).toBe(200);
  });

  it('a declared Content-Length over the limit is refused before anything is read', async () => {
    const response = await new Promise<number>((resolve, reject) => {
      const url = new URL('/console/sign-in', h.apiUrl);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(512 * MiB) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.write('key=');
    });
    expect(response).toBe(413);
  });

  it('oversized request targets get 414 and oversized headers 431', async () => {
    const long = await fetch(`${h.apiUrl}/api/conversations?q=${'a'.repeat(9_000)}`);
    expect(long.status).toBe(414);
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL('/healthz', h.apiUrl);
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, headers: { 'x-junk': 'a'.repeat(20_000) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
  });

  it('a flood of sign-in attempts from one address gets 429 (console and codec share the bucket), with Retry-After', async () => {
    for (const [path, allowed] of [
      ['/console/sign-in', 20],
      ['/codec/session', 0],
    ] as const) {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 30; i++) {
        const response = await fetch(`${h.apiUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ key: `cw_000000000000_${'x'.repeat(32)}` }).toString(),
        });
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get('retry-after');
        await response.text();
      }
      // The bucket refills a try every 3 s: one more may slip in while the flood runs.
      expect(
        statuses.slice(0, allowed).every((s) => s === 401),
        path,
      ).toBe(true);
      expect(statuses.filter((s) => s === 401).length, path).toBeLessThanOrEqual(allowed + 1);
      expect(
        statuses.slice(-5).every((s) => s === 429),
        path,
      ).toBe(true);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    }
    // A valid key from that address is refused too until the bucket refills: the limit is per address.
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT');
    const blocked = await fetch(`${h.apiUrl}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: agent.apiKey }).toString(),
    });
    expect(blocked.status).toBe(429);
    // Another address (through a proxy on loopback, X-Forwarded-For) has its own bucket.
    const other = await fetch(`${h.apiUrl}/console/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9' },
      body: new URLSearchParams({ key: agent.apiKey, _csrf: csrfTokenFor('unused') }).toString(),
    });
    expect(other.status).toBe(303);
    // Rotating X-Forwarded-For does not lift the limit: the socket's peer has its own (ten times wider) bucket.
    const rotated: number[] = [];
    for (let i = 0; i < 260 && !rotated.includes(429); i++) {
      const response = await fetch(`${h.apiUrl}/codec/session`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': `198.51.100.${i % 250}, 10.0.0.${i % 250}`,
        },
        body: new URLSearchParams({ key: `cw_000000000000_${'y'.repeat(32)}` }).toString(),
      });
      rotated.push(response.status);
      await response.text();
    }
    expect(rotated).toContain(429);
    expect(rotated.length).toBeLessThanOrEqual(220);
  });

  it('one API key flooding the API gets 429 once its burst is spent', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT');
    const statuses: number[] = [];
    // Fifty at a time: faster than the bucket refills (10 per second after a burst of 600).
    while (statuses.length < 2_000 && !statuses.includes(429)) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${h.apiUrl}/api/health-of-nothing`, { headers: { authorization: `Bearer ${agent.apiKey}` } }),
        ),
      );
      statuses.push(...batch.map((r) => r.status));
      await Promise.all(batch.map((r) => r.text()));
    }
    expect(statuses.filter((s) => s !== 429).length).toBeGreaterThanOrEqual(600);
    expect(statuses).toContain(429);
    // Another key is not affected.
    const other = await h.createOperator(tenant, 'AGENT');
    expect((await h.api('/api/conversations?limit=1', { key: other.apiKey })).status).toBe(200);
  });
});
