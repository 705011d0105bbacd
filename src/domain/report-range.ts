import { stringify } from 'csv-stringify/sync';
import { parseDuration } from './duration';

/** The longest report period: a year of days keeps the report one quick statement. */
const MAX_RANGE_MS = 366 * 86_400_000;

export function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * A report's period from `since` (a duration back from now, `7d`, or a date / ISO instant) and an optional `until`
 * (same forms; default now). Throws RangeError with a message fit for the user.
 */
export function reportRange(input: { since?: string; until?: string }, now: Date): { since: Date; until: Date } {
  const at = (text: string, name: string): Date => {
    const t = text.trim();
    if (/^\d+(\.\d+)?(ms|s|m|h|d)/.test(t)) return new Date(now.getTime() - parseDuration(t));
    if (/^\d{4}-\d{2}-\d{2}/.test(t) && !Number.isNaN(Date.parse(t))) return new Date(t);
    throw new RangeError(`${name} must be a duration back from now (7d, 24h) or a date (2026-12-01)`);
  };
  const since = at(input.since ?? '7d', 'since');
  const until = input.until ? at(input.until, 'until') : now;
  if (since >= until) throw new RangeError('since must be before until');
  if (until.getTime() - since.getTime() > MAX_RANGE_MS) throw new RangeError('a report covers at most 366 days');
  return { since, until };
}

/** Rows of plain objects as CSV with a header line (csv-stringify: quoting and escaping done right). */
export function toCsv<T extends object>(rows: T[], columns: Extract<keyof T, string>[]): string {
  return stringify(
    rows.map((r) => columns.map((k) => r[k] ?? '')),
    { header: true, columns, cast: { boolean: (v) => String(v) } },
  );
}
