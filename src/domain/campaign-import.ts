/**
 * Validation of a campaign's target file (CSV or JSON). The whole file is checked before anything is
 * imported: callers must import `rows` only when `errors` is empty. Pure: no I/O.
 */
import { parse } from 'csv-parse/sync';
import { isValidTimeZone } from './active-hours';
import { isE164 } from './address';

export interface TargetRow {
  /** CSV: physical line where the record starts (header = line 1). JSON: array index + 1 ("item N"). */
  line: number;
  /** Normalized E.164. */
  phone: string;
  name: string | null;
  /** IANA time zone, as written in the file. */
  timeZone: string | null;
  /** Lowercase, accents stripped, whitespace collapsed ("Teresópolis " → "teresopolis"). */
  region: string | null;
  /** Integer in -1000..1000, default 0. */
  priority: number;
  debtAmountCents: number | null;
  /** YYYY-MM-DD. */
  dueDate: string | null;
  document: string | null;
  /** Template variables: every other CSV column, or the JSON item's "variables" object. */
  variables: Record<string, string>;
}

export interface RowError {
  line: number;
  field: string | null;
  message: string;
  /** What `line` counts: 'item' for JSON array elements; absent means a physical line. */
  unit?: 'line' | 'item';
}

export interface ImportResult {
  rows: TargetRow[];
  errors: RowError[];
  format: 'csv' | 'json';
}

export interface ImportOptions {
  /** Country calling code prefixed to numbers written without "+", e.g. "55". */
  defaultCountryCode?: string;
  /** Default 200000. */
  maxRows?: number;
}

type Field = 'phone' | 'name' | 'time_zone' | 'region' | 'priority' | 'debt_amount' | 'due_date' | 'document';

const ALIASES: Record<string, Field> = {
  phone: 'phone',
  phone_number: 'phone',
  telefone: 'phone',
  celular: 'phone',
  name: 'name',
  nome: 'name',
  debtor_name: 'name',
  time_zone: 'time_zone',
  timezone: 'time_zone',
  tz: 'time_zone',
  region: 'region',
  regiao: 'region',
  city: 'region',
  cidade: 'region',
  priority: 'priority',
  prioridade: 'priority',
  debt_amount: 'debt_amount',
  amount: 'debt_amount',
  valor: 'debt_amount',
  due_date: 'due_date',
  vencimento: 'due_date',
  due: 'due_date',
  document: 'document',
  cpf: 'document',
  cnpj: 'document',
  documento: 'document',
};

const DEFAULT_MAX_ROWS = 200_000;
const MAX_VARIABLE_LENGTH = 1000;
const MAX_AMOUNT_CENTS = 1e11;

const stripAccents = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '');
/** "Phone Number", "phoneNumber", "Região" → "phone_number", "phone_number", "regiao". */
const fieldKey = (name: string) =>
  stripAccents(name)
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
/** Template placeholders are `{{[A-Za-z0-9_]+}}`, so CSV headers are folded into that alphabet (case kept). */
const variableName = (header: string) =>
  stripAccents(header)
    .trim()
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');

/** Thrown by field parsers; becomes a RowError for that field. */
class FieldProblem extends Error {}
const fail = (message: string): never => {
  throw new FieldProblem(message);
};
const quoted = (value: unknown) => JSON.stringify(typeof value === 'string' ? value : String(value));

/** Trimmed text, null when blank or absent; numbers and booleans (JSON) become text. */
function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return fail('must be a string');
  return value.trim() || null;
}

function parsePhone(value: unknown, countryCode: string | undefined): string {
  const raw = text(value) ?? fail('required');
  let phone = raw.replace(/^whatsapp:/i, '').replace(/[\s().-]/g, '');
  if (!phone.startsWith('+') && countryCode) phone = `+${countryCode}${phone}`;
  return isE164(phone) ? phone : fail(`not an E.164 number (${quoted(raw)})`);
}

function parsePriority(value: unknown): number {
  const raw = text(value);
  if (raw === null) return 0;
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= -1000 && n <= 1000
    ? n
    : fail(`must be an integer between -1000 and 1000 (${quoted(raw)})`);
}

/**
 * Money in cents from "1234.56", "1234,56", "1.234,56", "1,234.56", "R$ 1.234,56" or a JSON number. With both
 * separators the last one is decimal; a lone separator followed by exactly three digits ("1.234", "1,234")
 * is a thousands separator, since a currency never has three decimals.
 */
function parseAmountCents(value: unknown): number | null {
  if (typeof value === 'number') {
    const cents = Math.round(value * 100);
    if (!Number.isFinite(value) || Math.abs(value * 100 - cents) > 1e-4)
      fail(`not an amount in cents precision (${value})`);
    return checkAmount(cents, String(value));
  }
  const raw = text(value);
  if (raw === null) return null;
  const s = raw.replace(/\s/g, '').replace(/^(?:R\$|US\$|\$|€|£|BRL|USD|EUR)/i, '');
  if (/^[-(]/.test(s)) fail(`must not be negative (${quoted(raw)})`);
  if (!/^\d[\d.,]*$/.test(s)) fail(`not an amount (${quoted(raw)})`);
  const [dot, comma] = [s.lastIndexOf('.'), s.lastIndexOf(',')];
  let decimal: string | null = dot > comma ? '.' : ',';
  if (dot < 0 || comma < 0) {
    const separator = dot >= 0 ? '.' : ',';
    const count = s.split(separator).length - 1;
    decimal = count === 0 || count > 1 || s.length - s.lastIndexOf(separator) - 1 === 3 ? null : separator;
  }
  const [whole, fraction = ''] = decimal
    ? [s.slice(0, s.lastIndexOf(decimal)), s.slice(s.lastIndexOf(decimal) + 1)]
    : [s];
  const groupsOk = /^\d+$/.test(whole) || /^[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})*$/.test(whole);
  if (!groupsOk || !/^\d{0,2}$/.test(fraction)) fail(`not an amount (${quoted(raw)})`);
  return checkAmount(Number(whole.replace(/[.,]/g, '')) * 100 + Number(fraction.padEnd(2, '0')), raw);
}

function checkAmount(cents: number, raw: string): number {
  if (cents < 0) fail(`must not be negative (${quoted(raw)})`);
  return cents < MAX_AMOUNT_CENTS ? cents : fail(`too large (${quoted(raw)})`);
}

/** YYYY-MM-DD or DD/MM/YYYY, and a real calendar date (no 2026-02-30). */
function parseDueDate(value: unknown): string | null {
  const raw = text(value);
  if (raw === null) return null;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  const br = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(raw);
  const [y, m, d] = iso
    ? [iso[1], iso[2], iso[3]]
    : br
      ? [br[3], br[2], br[1]]
      : fail(`not a date, use YYYY-MM-DD or DD/MM/YYYY (${quoted(raw)})`);
  const [year, month, day] = [Number(y), Number(m), Number(d)];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth)
    fail(`not a real calendar date (${quoted(raw)})`);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function parseVariable(value: unknown): string {
  const s =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : fail('must be a string');
  return s.length <= MAX_VARIABLE_LENGTH ? s : fail(`longer than ${MAX_VARIABLE_LENGTH} characters`);
}

interface Context {
  unit: 'line' | 'item';
  countryCode: string | undefined;
  seen: Map<string, number>;
  errors: RowError[];
}

/** Validates one record (CSV strings or JSON values); pushes its errors and returns the row only when clean. */
function validate(
  ctx: Context,
  line: number,
  fields: Partial<Record<Field, unknown>>,
  variables: Array<[name: string, field: string, value: unknown]>,
): TargetRow | null {
  const before = ctx.errors.length;
  const check = <T>(field: string, fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof FieldProblem)) throw error;
      ctx.errors.push({
        line,
        field,
        message: error.message,
        ...(ctx.unit === 'item' ? { unit: 'item' as const } : {}),
      });
      return fallback;
    }
  };
  const phone = check(
    'phone',
    () => {
      const p = parsePhone(fields.phone, ctx.countryCode);
      const first = ctx.seen.get(p);
      if (first !== undefined) fail(`duplicate of ${ctx.unit} ${first}`);
      ctx.seen.set(p, line);
      return p;
    },
    '',
  );
  const row: TargetRow = {
    line,
    phone,
    name: check('name', () => text(fields.name), null),
    timeZone: check(
      'time_zone',
      () => {
        const tz = text(fields.time_zone);
        return tz === null || isValidTimeZone(tz) ? tz : fail(`unknown time zone (${quoted(tz)})`);
      },
      null,
    ),
    region: check(
      'region',
      () => {
        const region = text(fields.region);
        return region === null ? null : stripAccents(region).toLowerCase().replace(/\s+/g, ' ');
      },
      null,
    ),
    priority: check('priority', () => parsePriority(fields.priority), 0),
    debtAmountCents: check('debt_amount', () => parseAmountCents(fields.debt_amount), null),
    dueDate: check('due_date', () => parseDueDate(fields.due_date), null),
    document: check('document', () => text(fields.document), null),
    variables: {},
  };
  for (const [name, field, value] of variables) row.variables[name] = check(field, () => parseVariable(value), '');
  return ctx.errors.length === before ? row : null;
}

export function parseTargets(content: string, format: 'csv' | 'json', options: ImportOptions = {}): ImportResult {
  const countryCode = options.defaultCountryCode?.trim().replace(/^\+/, '');
  if (countryCode !== undefined && !/^[1-9]\d{0,2}$/.test(countryCode))
    throw new RangeError(`invalid default country code "${options.defaultCountryCode}"`);
  const ctx: Context = { unit: format === 'json' ? 'item' : 'line', countryCode, seen: new Map(), errors: [] };
  const rows = (format === 'json' ? parseJson : parseCsv)(
    content.replace(/^\uFEFF/, ''),
    ctx,
    options.maxRows ?? DEFAULT_MAX_ROWS,
  );
  return { rows, errors: ctx.errors, format };
}

/** The delimiter used most in the header line, quoted text aside. */
function detectDelimiter(headerLine: string): string {
  const bare = headerLine.replace(/"[^"]*"/g, '');
  const counts = [',', ';', '\t'].map((d) => [d, bare.split(d).length] as const);
  return counts.reduce((best, c) => (c[1] > best[1] ? c : best))[0];
}

function parseCsv(content: string, ctx: Context, maxRows: number): TargetRow[] {
  // One line ending style keeps line counting trivial (csv-parse miscounts \r\n inside quoted fields).
  const input = content.replace(/\r\n?/g, '\n');
  if (!input.trim()) {
    ctx.errors.push({
      line: 1,
      field: null,
      message: 'the file is empty (a header row with a phone column is required)',
    });
    return [];
  }
  let records: Array<{ record: string[]; raw: string }>;
  try {
    // relax_column_count: a short or long row must become an error on its own line, not abort the whole parse.
    records = parse(input, {
      delimiter: detectDelimiter(input.trimStart().split('\n', 1)[0]!),
      record_delimiter: '\n',
      raw: true,
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as Array<{ record: string[]; raw: string }>;
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 1;
    ctx.errors.push({
      line,
      field: null,
      message: `unreadable CSV: ${error instanceof Error ? error.message : String(error)}`,
    });
    return [];
  }

  // `raw` is the exact source text of each record (plus any empty lines before it), so counting its
  // newlines gives the physical line where each record starts.
  let newlines = 0;
  const located = records.map(({ record, raw }) => {
    const line = newlines + (raw.length - raw.replace(/^\n+/, '').length) + 1;
    newlines += raw.split('\n').length - 1;
    return { record, line };
  });
  const [header, ...data] = located;
  if (!header) return [];

  const fieldColumns = new Map<Field, number>();
  const variableColumns: Array<[name: string, header: string, index: number]> = [];
  const headerError = (message: string) => ctx.errors.push({ line: header.line, field: null, message });
  header.record.forEach((title, index) => {
    const field = ALIASES[fieldKey(title)];
    const name = variableName(title);
    if (!title) headerError(`column ${index + 1} has no name`);
    else if (field && fieldColumns.has(field))
      headerError(`columns "${header.record[fieldColumns.get(field)!]}" and "${title}" are both ${field}`);
    else if (field) fieldColumns.set(field, index);
    else if (!name) headerError(`column "${title}" is not usable as a template variable (use letters, digits and _)`);
    else if (variableColumns.some(([other]) => other === name))
      headerError(
        `columns "${variableColumns.find(([other]) => other === name)![1]}" and "${title}" are both variable "${name}"`,
      );
    else variableColumns.push([name, title, index]);
  });
  if (!fieldColumns.has('phone')) {
    ctx.errors.length = 0; // the missing phone column is the one error worth reporting
    headerError(
      `no phone column (name one of: phone, phone_number, telefone, celular); found ${header.record.map((h) => `"${h}"`).join(', ')}`,
    );
  }
  if (ctx.errors.length > 0) return [];

  // Rows whose every cell is blank (",,," from spreadsheets) count as empty lines.
  const rows = data.filter(({ record }) => record.some((cell) => cell !== ''));
  if (rows.length > maxRows) {
    ctx.errors.push({
      line: rows[maxRows]!.line,
      field: null,
      message: `too many rows: ${rows.length} (the limit is ${maxRows})`,
    });
    return [];
  }
  const result: TargetRow[] = [];
  for (const { record, line } of rows) {
    if (record.length !== header.record.length) {
      ctx.errors.push({
        line,
        field: null,
        message: `expected ${header.record.length} columns, found ${record.length} (quote values that contain the delimiter)`,
      });
      continue;
    }
    const fields = Object.fromEntries([...fieldColumns].map(([field, index]) => [field, record[index]]));
    const row = validate(
      ctx,
      line,
      fields,
      variableColumns.map(([name, title, index]) => [name, title, record[index]]),
    );
    if (row) result.push(row);
  }
  return result;
}

/** Line of a JSON.parse error: V8 reports "line N" (newer) or "position N" (Node 20). */
function jsonErrorLine(message: string, content: string): number {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (position) return content.slice(0, Number(position[1])).split('\n').length;
  return /end of JSON input/.test(message) ? content.trimEnd().split('\n').length : 1;
}

function parseJson(content: string, ctx: Context, maxRows: number): TargetRow[] {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.errors.push({ line: jsonErrorLine(message, content), field: null, message: `invalid JSON: ${message}` });
    return [];
  }
  if (!Array.isArray(data)) {
    ctx.errors.push({ line: 1, field: null, message: 'expected a JSON array of target objects' });
    return [];
  }
  if (data.length > maxRows) {
    ctx.errors.push({
      line: maxRows + 1,
      field: null,
      message: `too many items: ${data.length} (the limit is ${maxRows})`,
      unit: 'item',
    });
    return [];
  }
  const result: TargetRow[] = [];
  data.forEach((item: unknown, index) => {
    const line = index + 1;
    const itemError = (field: string | null, message: string) => {
      ctx.errors.push({ line, field, message, unit: 'item' });
      return false;
    };
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      return void itemError(null, 'expected an object');
    const fields: Partial<Record<Field, unknown>> = {};
    const variables: Array<[string, string, unknown]> = [];
    let ok = true;
    for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
      const field = ALIASES[fieldKey(key)];
      if (key === 'variables') {
        if (value === null || value === undefined) continue;
        if (typeof value !== 'object' || Array.isArray(value)) {
          ok = itemError('variables', 'must be an object of name → text');
          continue;
        }
        for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
          if (/^[A-Za-z0-9_]+$/.test(name)) variables.push([name, `variables.${name}`, v]);
          else ok = itemError(`variables.${name}`, 'not a valid variable name (use letters, digits and _)');
        }
      } else if (!field) ok = itemError(key, 'unknown field (put template variables under "variables")');
      else if (field in fields) ok = itemError(key, `duplicates the ${field} field`);
      else fields[field] = value;
    }
    const row = validate(ctx, line, fields, variables);
    if (row && ok) result.push(row);
  });
  return result;
}

/** JSON when the name says so (or, for other names, when the content starts like JSON); CSV otherwise. */
export function detectFormat(fileName: string, content: string): 'csv' | 'json' {
  const extension = /\.([^./\\]+)$/.exec(fileName.toLowerCase())?.[1];
  if (extension === 'json') return 'json';
  if (extension === 'csv' || extension === 'tsv' || extension === 'txt') return 'csv';
  return /^\uFEFF?\s*[[{]/.test(content) ? 'json' : 'csv';
}

/** One line per error ("line 7: phone: not an E.164 number ("12345")"), then "… and N more". */
export function formatErrors(errors: RowError[], limit = 50): string {
  const lines = errors
    .slice(0, limit)
    .map((e) => `${e.unit ?? 'line'} ${e.line}: ${e.field ? `${e.field}: ` : ''}${e.message}`);
  if (errors.length > limit) lines.push(`… and ${errors.length - limit} more`);
  return lines.join('\n');
}
