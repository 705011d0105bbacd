/**
 * Do-not-contact list files (CSV): one number a row, in any common Brazilian spelling ("(11) 98765-4321",
 * "11987654321", "+55 11 98765-4321"), stored as E.164; an optional column with the registration date (Procon-SP's
 * block takes effect 30 days after it). Pure: the CLI reads the file and stores the result.
 */
import { parse } from 'csv-parse/sync';
import type { DncScope } from './gate';

export interface DncRow {
  phone: string;
  registeredAt: Date | null;
}

export interface DncParseResult {
  rows: DncRow[];
  errors: Array<{ line: number; message: string }>;
}

/** The scope a list name implies: the two public lists by name, anything else is the tenant's own list. */
export function scopeOfList(list: string): DncScope {
  if (list === 'procon-sp') return 'procon-sp';
  if (list === 'nao-me-perturbe') return 'nao-me-perturbe';
  return 'tenant';
}

/** A Brazilian number as E.164: digits with or without 55, 10 or 11 digits after it; `+` numbers kept as they are. */
export function normalizePhone(raw: string): string | null {
  const trimmed = raw.trim();
  const digits = trimmed.replace(/[\s().\-/]/g, '');
  if (/^\+[1-9]\d{6,14}$/.test(digits)) return digits;
  if (/^\d{10,11}$/.test(digits)) return `+55${digits}`;
  if (/^55\d{10,11}$/.test(digits)) return `+${digits}`;
  return null;
}

function parseDate(raw: string): Date | null | 'invalid' {
  const text = raw.trim();
  if (!text) return null;
  const br = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  const iso = br ? `${br[3]}-${br[2]}-${br[1]}` : text;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T00:00:00-03:00` : iso);
  return Number.isNaN(date.getTime()) ? 'invalid' : date;
}

const PHONE_COLUMNS = ['phone', 'telefone', 'numero', 'número', 'number', 'e164'];

export function parseDncCsv(content: string, options: { registeredAtColumn?: string } = {}): DncParseResult {
  const records: string[][] = parse(content.replace(/\r\n?/g, '\n'), {
    skip_empty_lines: true,
    relax_column_count: true,
  });
  const result: DncParseResult = { rows: [], errors: [] };
  if (records.length === 0) return result;
  const header = records[0]!.map((h) => h.trim().toLowerCase());
  const hasHeader = header.some((h) => PHONE_COLUMNS.includes(h)) || options.registeredAtColumn !== undefined;
  const phoneAt = hasHeader
    ? Math.max(
        0,
        header.findIndex((h) => PHONE_COLUMNS.includes(h)),
      )
    : 0;
  let dateAt = -1;
  if (options.registeredAtColumn) {
    dateAt = header.indexOf(options.registeredAtColumn.trim().toLowerCase());
    if (dateAt < 0) {
      result.errors.push({
        line: 1,
        message: `no column "${options.registeredAtColumn}" (columns: ${header.join(', ')})`,
      });
      return result;
    }
  }
  records.slice(hasHeader ? 1 : 0).forEach((record, i) => {
    const line = i + (hasHeader ? 2 : 1);
    const phone = normalizePhone(record[phoneAt] ?? '');
    if (!phone) return result.errors.push({ line, message: 'not a phone number' });
    const registeredAt = dateAt >= 0 ? parseDate(record[dateAt] ?? '') : null;
    if (registeredAt === 'invalid')
      return result.errors.push({ line, message: 'registration date is not a date (YYYY-MM-DD or DD/MM/YYYY)' });
    result.rows.push({ phone, registeredAt });
  });
  return result;
}
