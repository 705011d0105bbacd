import { describe, expect, it } from 'vitest';
import { diffLines, formatDiff } from '../../src/domain/line-diff';

describe('diffLines', () => {
  it('shows kept, removed and added lines in order, with their line numbers', () => {
    const diff = diffLines('a\nb\nc\nd', 'a\nB\nc\nd\ne');
    expect(diff).toEqual([
      { op: 'same', text: 'a', oldLine: 1, newLine: 1 },
      { op: 'del', text: 'b', oldLine: 2 },
      { op: 'add', text: 'B', newLine: 2 },
      { op: 'same', text: 'c', oldLine: 3, newLine: 3 },
      { op: 'same', text: 'd', oldLine: 4, newLine: 4 },
      { op: 'add', text: 'e', newLine: 5 },
    ]);
    expect(formatDiff(diff)).toBe('  a\n- b\n+ B\n  c\n  d\n+ e');
  });

  it('handles empty sides, CRLF and a trailing newline', () => {
    expect(diffLines('', 'x\n')).toEqual([{ op: 'add', text: 'x', newLine: 1 }]);
    expect(diffLines('x\r\ny\r\n', '')).toEqual([
      { op: 'del', text: 'x', oldLine: 1 },
      { op: 'del', text: 'y', oldLine: 2 },
    ]);
    expect(diffLines('same\n', 'same').every((l) => l.op === 'same')).toBe(true);
  });

  it('every line of both texts appears exactly once', () => {
    const a = Array.from({ length: 50 }, (_, i) => `line ${i % 7}`).join('\n');
    const b = Array.from({ length: 40 }, (_, i) => `line ${i % 5}`).join('\n');
    const diff = diffLines(a, b);
    expect(diff.filter((l) => l.op !== 'add').map((l) => l.text)).toEqual(a.split('\n'));
    expect(diff.filter((l) => l.op !== 'del').map((l) => l.text)).toEqual(b.split('\n'));
  });
});
