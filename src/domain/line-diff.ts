export interface DiffLine {
  op: 'same' | 'add' | 'del';
  text: string;
  /** 1-based line numbers in the old and the new text (absent on the side the line is not in). */
  oldLine?: number;
  newLine?: number;
}

/** Above this many lines on either side the O(n·m) table gets too big; prompts are far smaller. */
export const MAX_DIFF_LINES = 4000;

const splitLines = (text: string) => (text === '' ? [] : text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n'));

/**
 * A line diff (longest common subsequence): every line of both texts once, in order, deletions before the
 * additions that replace them, as `diff -u` shows them.
 */
export function diffLines(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES)
    throw new RangeError(`texts of more than ${MAX_DIFF_LINES} lines are not diffed`);
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1)
    for (let j = b.length - 1; j >= 0; j -= 1)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ op: 'same', text: a[i]!, oldLine: i + 1, newLine: j + 1 });
      i += 1;
      j += 1;
    } else if (j >= b.length || (i < a.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push({ op: 'del', text: a[i]!, oldLine: i + 1 });
      i += 1;
    } else {
      out.push({ op: 'add', text: b[j]!, newLine: j + 1 });
      j += 1;
    }
  }
  return out;
}

/** The diff as unified-diff-like text lines: `  same`, `- removed`, `+ added`. */
export function formatDiff(lines: DiffLine[]): string {
  return lines.map((l) => `${l.op === 'same' ? ' ' : l.op === 'add' ? '+' : '-'} ${l.text}`).join('\n');
}
