import { Writable } from 'node:stream';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bodyLimitByLength } from '../../src/api/limits';
import { pooledRandomBytes } from '../../src/domain/random-pool';
import { newRootTrace, newSpanId, childSpan } from '../../src/domain/trace';
import { createLogger, lazyChild } from '../../src/logger';

// Issue 25 A: what the webhook no longer does per request keeps the behaviour it had.

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger(level, { destination }), lines };
}
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** The logger of `capture(level)` with its `child()` calls counted (how many pino children were made). */
function countingChildren(level: string) {
  const { log, lines } = capture(level);
  const made = { count: 0 };
  const child = log.child.bind(log);
  const counting = Object.assign(Object.create(log) as typeof log, {
    child: (...args: Parameters<typeof log.child>) => ((made.count += 1), child(...args)),
  });
  return { log: counting, lines, made };
}

describe('lazyChild', () => {
  it('logs with the bindings of every level of laziness, redacted as a pino child does', async () => {
    const { log, lines } = capture('info');
    const request = lazyChild(log, { requestId: 'r-1' });
    const message = lazyChild(request, { messageSid: 'SM1' });
    message.info({ tenant: 'acme', Body: 'my secret', from: '+5511999999999' }, 'inbound accepted');
    request.warn('plain');
    await flush();
    expect(lines).toEqual([
      expect.objectContaining({
        requestId: 'r-1',
        messageSid: 'SM1',
        tenant: 'acme',
        Body: '[redacted]',
        from: '[redacted]',
        msg: 'inbound accepted',
      }),
      expect.objectContaining({ requestId: 'r-1', msg: 'plain', level: 40 }),
    ]);
    expect(lines[1]).not.toHaveProperty('messageSid');
  });

  it('makes no child for a level the parent does not log, and answers level questions as the child would', async () => {
    const { log: counting, lines, made } = countingChildren('warn');
    const request = lazyChild(counting, { requestId: 'r-2' });
    const message = lazyChild(request, { messageSid: 'SM2' });
    message.info('not logged');
    message.debug('not logged');
    expect(message.isLevelEnabled('info')).toBe(false);
    expect(message.isLevelEnabled('error')).toBe(true);
    expect(message.level).toBe('warn');
    expect(made.count).toBe(0);
    message.error('logged');
    await flush();
    expect(made.count).toBe(1);
    expect(lines).toEqual([expect.objectContaining({ requestId: 'r-2', messageSid: 'SM2', msg: 'logged' })]);
  });

  it('.child() of a lazy child is lazy too (the status callback route) and keeps both bindings', async () => {
    const { log: counting, lines, made } = countingChildren('warn');
    const message = lazyChild(counting, { requestId: 'r-3' }).child({ messageSid: 'SM3' });
    message.info('not logged');
    expect(message.isLevelEnabled('info')).toBe(false);
    expect(made.count).toBe(0);
    message.warn({ from: '+5511999999999' }, 'logged');
    await flush();
    expect(made.count).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({ requestId: 'r-3', messageSid: 'SM3', msg: 'logged', from: '[redacted]' }),
    ]);
  });
});

describe('bodyLimitByLength', () => {
  const app = () => {
    const seen: string[] = [];
    const hono = new Hono()
      .use(
        bodyLimitByLength({
          maxSize: 10,
          onError: () => {
            throw new Error('too large');
          },
        }),
      )
      .post('/', async (c) => {
        seen.push(await c.req.text());
        return c.text('ok');
      });
    hono.onError((error, c) => c.text(error.message, 413));
    return { hono, seen };
  };

  it('refuses a declared Content-Length over the limit, and takes one within it, reading the body once', async () => {
    const { hono, seen } = app();
    const over = await hono.request('/', { method: 'POST', body: 'x'.repeat(11), headers: { 'content-length': '11' } });
    expect(over.status).toBe(413);
    const within = await hono.request('/', {
      method: 'POST',
      body: 'x'.repeat(10),
      headers: { 'content-length': '10' },
    });
    expect(within.status).toBe(200);
    expect(seen).toEqual(['x'.repeat(10)]);
  });

  it('counts a body without Content-Length as hono does (a stream over the limit is refused)', async () => {
    const { hono, seen } = app();
    const stream = (text: string) =>
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text));
          controller.close();
        },
      });
    const over = await hono.request('/', {
      method: 'POST',
      body: stream('y'.repeat(11)),
      duplex: 'half',
    });
    expect(over.status).toBe(413);
    const within = await hono.request('/', {
      method: 'POST',
      body: stream('y'.repeat(4)),
      duplex: 'half',
    });
    expect(within.status).toBe(200);
    expect(seen).toEqual(['yyyy']);
  });
});

describe('trace ids from the pooled random block', () => {
  it('have the W3C sizes and do not repeat across many blocks', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      const root = newRootTrace();
      expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(root.spanId).toMatch(/^[0-9a-f]{16}$/);
      const child = childSpan(root);
      expect(child.parentId).toBe(root.spanId);
      expect(child.traceId).toBe(root.traceId);
      ids.add(root.traceId).add(root.spanId).add(child.spanId).add(newSpanId());
    }
    expect(ids.size).toBe(8000);
  });
});

describe('pooledRandomBytes', () => {
  it('hands out each byte once: views that stay as they were after the block is spent and replaced', () => {
    const views = Array.from({ length: 1000 }, () => pooledRandomBytes(12));
    const copies = views.map((v) => Buffer.from(v).toString('hex'));
    for (let i = 0; i < 2000; i += 1) pooledRandomBytes(12); // several blocks later
    expect(views.map((v) => v.toString('hex'))).toEqual(copies);
    expect(new Set(copies).size).toBe(1000);
    expect(views.every((v) => v.length === 12)).toBe(true);
    expect(pooledRandomBytes(5000)).toHaveLength(5000);
  });
});
