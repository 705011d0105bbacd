import { describe, expect, it } from 'vitest';
import { classifyDbError } from '../../src/db/core/errors';
import { normalizeInboundParams, normalizeInboundText } from '../../src/domain/inbound-text';

describe('normalizeInboundText (D)', () => {
  it('removes NUL and the other C0/C1 controls but keeps tab, newline and carriage return', () => {
    expect(normalizeInboundText('a\u0000b\u0001c\u001Fd\u007Fe\u0085f\u009Fg\th\ni\rj')).toEqual({
      text: 'abcdefg\th\ni\rj',
      changed: true,
    });
  });
  it('replaces lone surrogates with U+FFFD and keeps surrogate pairs', () => {
    expect(normalizeInboundText('x\uD800y\uDC00z😀')).toEqual({ text: 'x\uFFFDy\uFFFDz😀', changed: true });
    expect(normalizeInboundText('😀\uD83D')).toEqual({ text: '😀\uFFFD', changed: true });
  });
  it('leaves emoji sequences, RTL text with bidi marks and combining marks untouched', () => {
    for (const text of ['👨‍👩‍👧‍👦 🇧🇷 👋🏽 ❤️', '\u200Fمرحبا \u202Bשָׁלוֹם\u202C', 'e\u0301 n\u0303', '']) {
      expect(normalizeInboundText(text)).toEqual({ text, changed: false });
    }
  });
  it('reports which parameters changed, by name only', () => {
    const result = normalizeInboundParams({ Body: 'oi\u0000', ProfileName: 'Ana', MediaUrl0: 'https://x/\u0007y' });
    expect(result.params).toEqual({ Body: 'oi', ProfileName: 'Ana', MediaUrl0: 'https://x/y' });
    expect(result.normalizedFields).toEqual(['Body', 'MediaUrl0']);
  });
});

describe('classifyDbError (D, G)', () => {
  const pg = (code: string) => Object.assign(new Error('x'), { name: 'PostgresError', code });
  const wrapped = (cause: unknown) => Object.assign(new Error('Failed query: insert … params: secret'), { cause });
  it("data exceptions, integrity and syntax/access errors are permanent, also inside drizzle's wrapper", () => {
    for (const code of ['22021', '22P02', '23505', '23503', '42P01', '42703'])
      expect(classifyDbError(wrapped(pg(code)))).toEqual({ kind: 'permanent', code });
  });
  it('connection, shutdown, resource and serialization errors are retryable', () => {
    for (const code of ['08006', '57P01', '57P03', '53300', '40001', '55000'])
      expect(classifyDbError(pg(code))).toEqual({ kind: 'retryable', code });
    for (const code of ['CONNECTION_CLOSED', 'CONNECT_TIMEOUT', 'ECONNREFUSED'])
      expect(classifyDbError(wrapped(Object.assign(new Error('write'), { code })))).toEqual({
        kind: 'retryable',
        code,
      });
  });
  it('anything else is not a database error', () => {
    expect(classifyDbError(new TypeError('x'))).toBeNull();
    expect(classifyDbError(Object.assign(new Error('x'), { code: 'ERR_SOMETHING' }))).toBeNull();
  });
});
