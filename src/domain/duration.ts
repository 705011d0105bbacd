const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `2s`, `10m`, `1h30m`, `24h`, `7d` into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const input = text.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let consumed = 0;
  while (consumed < input.length) {
    part.lastIndex = consumed;
    const match = part.exec(input);
    if (!match) throw new RangeError(`invalid duration "${text}" (use forms like 500ms, 2s, 10m, 24h)`);
    total += Number(match[1]) * UNITS[match[2]!]!;
    consumed = part.lastIndex;
  }
  if (input.length === 0) throw new RangeError('empty duration');
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
