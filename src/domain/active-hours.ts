/**
 * Campaign active hours: per-weekday windows evaluated in the target's IANA time zone
 * (e.g. ANATEL in Brazil: weekdays 08:00-20:00, Saturday 08:00-14:00). Pure: no I/O.
 */

type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
/** `[start, end)` in seconds since local midnight; end is exclusive and at most 86400. */
export type ActiveHours = Record<Weekday, Array<[startSecondOfDay: number, endSecondOfDay: number]>>;

export class ActiveHoursError extends Error {
  override name = 'ActiveHoursError';
}

const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const FULL_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const DAY_SECONDS = 86_400;
const DAY_MS = DAY_SECONDS * 1000;

const emptyHours = (): ActiveHours => ({ mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] });

// ---------------------------------------------------------------------------------------------
// Spec syntax: "mon-fri 08:00-20:00; sat 08:00-14:00", "daily 09:00-12:00,13:00-18:00", "always"
// ---------------------------------------------------------------------------------------------

function dayIndex(token: string, clause: string): number {
  const index = WEEKDAYS.indexOf(token as Weekday);
  const full = FULL_NAMES.indexOf(token);
  if (index < 0 && full < 0)
    throw new ActiveHoursError(`unknown day "${token}" in "${clause}" (use mon, tue, wed, thu, fri, sat, sun, daily)`);
  return index >= 0 ? index : full;
}

function parseDays(text: string, clause: string): Weekday[] {
  const days = new Set<Weekday>();
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === 'daily' || part === 'all') WEEKDAYS.forEach((d) => days.add(d));
    else if (part.includes('-')) {
      const [from, to, ...rest] = part.split('-').map((p) => p.trim());
      if (rest.length > 0 || !from || !to) throw new ActiveHoursError(`bad day range "${part}" in "${clause}"`);
      // Ranges may wrap past Sunday ("fri-mon" = fri, sat, sun, mon).
      const start = dayIndex(from, clause);
      const length = (dayIndex(to, clause) - start + 7) % 7;
      for (let i = 0; i <= length; i++) days.add(WEEKDAYS[(start + i) % 7]!);
    } else if (part) days.add(WEEKDAYS[dayIndex(part, clause)]!);
    else throw new ActiveHoursError(`empty day in "${clause}"`);
  }
  return [...days];
}

function parseTime(text: string, clause: string, isEnd: boolean): number {
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  const [h, m, s] = match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : [NaN, NaN, NaN];
  const seconds = h * 3600 + m * 60 + s;
  const valid = m < 60 && s < 60 && (h < 24 || (isEnd && seconds === DAY_SECONDS));
  if (!valid)
    throw new ActiveHoursError(`bad time "${text}" in "${clause}" (use HH:MM or HH:MM:SS; 24:00 only as an end)`);
  return seconds;
}

function parseWindow(text: string, clause: string): [number, number] {
  const parts = text.split('-').map((p) => p.trim());
  if (parts.length !== 2) throw new ActiveHoursError(`bad time window "${text}" in "${clause}" (use HH:MM-HH:MM)`);
  const start = parseTime(parts[0]!, clause, false);
  const end = parseTime(parts[1]!, clause, true);
  if (end <= start)
    throw new ActiveHoursError(
      `window "${text}" in "${clause}" ends before it starts (to cross midnight, write two windows)`,
    );
  return [start, end];
}

/** Parses an active-hours spec; days not named are closed. Throws ActiveHoursError naming the bad clause. */
export function parseActiveHours(spec: string): ActiveHours {
  const text = spec.trim().toLowerCase();
  if (text === 'always') return mapDays(() => [[0, DAY_SECONDS]]);
  // "never" is the canonical form of a schedule with no window, so formatActiveHours round-trips.
  if (text === 'never') return emptyHours();
  const hours = emptyHours();
  const clauses = text
    .split(';')
    .map((c) => c.trim())
    .filter(Boolean);
  if (clauses.length === 0)
    throw new ActiveHoursError('empty active hours (write e.g. "mon-fri 08:00-20:00", "always" or "never")');
  for (const clause of clauses) {
    // Days are letters, commas, dashes and spaces; the windows start at the first digit.
    const match = /^([a-z][a-z,\s-]*?)\s*(\d.*)$/.exec(clause);
    if (!match) throw new ActiveHoursError(`bad clause "${clause}" (expected "<days> HH:MM-HH:MM[,HH:MM-HH:MM]")`);
    const windows = match[2]!.split(',').map((w) => parseWindow(w.trim(), clause));
    for (const day of parseDays(match[1]!, clause))
      hours[day].push(...windows.map((w): [number, number] => [w[0], w[1]]));
  }
  for (const day of WEEKDAYS) {
    const windows = hours[day].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < windows.length; i++) {
      if (windows[i]![0] < windows[i - 1]![1]) {
        throw new ActiveHoursError(
          `overlapping windows on ${day}: ${formatWindow(windows[i - 1]!)} and ${formatWindow(windows[i]!)} in "${spec.trim()}"`,
        );
      }
    }
  }
  return hours;
}

const pad = (n: number) => String(n).padStart(2, '0');
function formatTime(seconds: number): string {
  const base = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}`;
  return seconds % 60 === 0 ? base : `${base}:${pad(seconds % 60)}`;
}
const formatWindow = ([start, end]: [number, number]) => `${formatTime(start)}-${formatTime(end)}`;

/** Canonical spec: days with identical windows grouped, consecutive days as ranges ("mon-fri 08:00-20:00; sat 08:00-14:00"). */
export function formatActiveHours(h: ActiveHours): string {
  const keyOf = (day: Weekday) =>
    [...h[day]]
      .sort((a, b) => a[0] - b[0])
      .map(formatWindow)
      .join(',');
  if (WEEKDAYS.every((d) => keyOf(d) === '00:00-24:00')) return 'always';
  const groups = new Map<string, number[]>(); // windows key -> day indexes, in weekday order
  WEEKDAYS.forEach((day, i) => {
    const key = keyOf(day);
    if (key) groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  if (groups.size === 0) return 'never';
  return [...groups].map(([key, days]) => `${days.length === 7 ? 'daily' : formatDays(days)} ${key}`).join('; ');
}

function formatDays(days: number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < days.length;) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j]! + 1) j++;
    const [first, last] = [WEEKDAYS[days[i]!]!, WEEKDAYS[days[j]!]!];
    runs.push(i === j ? first : j === i + 1 ? `${first},${last}` : `${first}-${last}`);
    i = j + 1;
  }
  return runs.join(',');
}

function mapDays(fn: (day: Weekday) => Array<[number, number]>): ActiveHours {
  return Object.fromEntries(WEEKDAYS.map((d) => [d, fn(d)])) as ActiveHours;
}

/** Brazil's ANATEL rule for collection contacts: weekdays 08:00-20:00, Saturday 08:00-14:00, never on Sunday. */
export const DEFAULT_ACTIVE_HOURS: ActiveHours = parseActiveHours('mon-fri 08:00-20:00; sat 08:00-14:00');

// ---------------------------------------------------------------------------------------------
// Time zone arithmetic (Intl only; second resolution)
// ---------------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (error) {
      if (error instanceof RangeError) throw new ActiveHoursError(`unknown time zone "${timeZone}"`);
      throw error;
    }
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/** Local wall clock at instant `ms`, encoded as "UTC milliseconds" of that wall-clock time (whole seconds). */
function wallClock(timeZone: string, ms: number): number {
  const p: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms)))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  const { year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = p;
  // Old ICU versions can print midnight as hour 24 despite h23.
  return Date.UTC(year, month - 1, day, hour % 24, minute, second);
}

/** UTC offset (ms) in effect at instant `ms`. */
const offsetAt = (timeZone: string, ms: number) => wallClock(timeZone, ms) - Math.floor(ms / 1000) * 1000;

const weekdayOf = (wallMs: number): Weekday => WEEKDAYS[(new Date(wallMs).getUTCDay() + 6) % 7]!;
const secondOfDay = (wallMs: number) => Math.floor((((wallMs % DAY_MS) + DAY_MS) % DAY_MS) / 1000);

function isOpenAtWall(hours: ActiveHours, wallMs: number): boolean {
  const second = secondOfDay(wallMs);
  return hours[weekdayOf(wallMs)].some(([start, end]) => start <= second && second < end);
}

export function isOpen(hours: ActiveHours, timeZone: string, at: Date): boolean {
  return isOpenAtWall(hours, wallClock(timeZone, at.getTime()));
}

/**
 * Every instant whose local wall clock reads `wallMs`: usually one, two in a fall-back overlap, none in a
 * spring-forward gap. Offset correction: for each offset in effect a day either side, `t = wall - offset` is
 * a solution iff the offset at t is that offset (the fixed point of t ← wall - offset(t)).
 */
function instantsForWall(timeZone: string, wallMs: number): number[] {
  const offsets = new Set([offsetAt(timeZone, wallMs - DAY_MS), offsetAt(timeZone, wallMs + DAY_MS)]);
  return [...offsets]
    .map((o) => wallMs - o)
    .filter((t) => wallClock(timeZone, t) === wallMs)
    .sort((a, b) => a - b);
}

/** Offset transitions in (from, to]: the first whole second at which the new offset applies. */
function transitions(timeZone: string, from: number, to: number): number[] {
  const found: number[] = [];
  const step = 6 * 3_600_000; // real zones never change offset twice within six hours
  let [a, offsetA] = [from, offsetAt(timeZone, from)];
  while (a < to) {
    const b = Math.min(a + step, to);
    const offsetB = offsetAt(timeZone, b);
    if (offsetB !== offsetA) {
      // Offsets depend on the whole second only; bisect on seconds keeping offset(lo) = old, offset(hi) = new.
      let [lo, hi] = [Math.floor(a / 1000) * 1000, Math.floor(b / 1000) * 1000];
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (offsetAt(timeZone, mid) === offsetA) lo = mid;
        else hi = mid;
      }
      found.push(hi);
    }
    [a, offsetA] = [b, offsetB];
  }
  return found;
}

/**
 * `from` itself when open, otherwise the earliest instant after it at which a window opens; null when the
 * hours have no window (or, in theory, none is reachable within 8 days). A window opens either when the wall
 * clock reaches its start, or when a DST jump lands inside it (a start in a spring-forward gap opens at the
 * first instant after the gap; a fall-back can re-enter a window).
 */
export function nextOpening(hours: ActiveHours, timeZone: string, from: Date): Date | null {
  if (WEEKDAYS.every((d) => hours[d].length === 0)) return null;
  const fromMs = from.getTime();
  const fromWall = wallClock(timeZone, fromMs);
  if (isOpenAtWall(hours, fromWall)) return from;
  let best = Infinity;
  const midnight = fromWall - secondOfDay(fromWall) * 1000;
  // Start a day early: a fall-back at midnight can move the wall clock back into the previous date.
  // Stop one day after the first hit: only a fall-back across midnight can make a later date's window earlier.
  for (let day = -1, found = Infinity; day <= 8 && day <= found + 1; day++) {
    const dayWall = midnight + day * DAY_MS;
    for (const [start] of hours[weekdayOf(dayWall)]) {
      const t = instantsForWall(timeZone, dayWall + start * 1000).find((i) => i > fromMs);
      if (t !== undefined && t < best) [best, found] = [t, Math.min(found, day)];
    }
  }
  const until = Number.isFinite(best) ? best : fromMs + 9 * DAY_MS;
  for (const t of transitions(timeZone, fromMs, until)) {
    if (t > fromMs && t < best && isOpenAtWall(hours, wallClock(timeZone, t))) best = t;
  }
  return Number.isFinite(best) ? new Date(best) : null;
}

// ---------------------------------------------------------------------------------------------
// Closed dates (holidays): whole local dates on which no window opens, whatever the weekday says
// ---------------------------------------------------------------------------------------------

/** A predicate over local dates (`YYYY-MM-DD`): true when the date is closed (a holiday or a date the tenant closed). */
export type ClosedDates = (isoDate: string) => boolean;

/** The local calendar date (`YYYY-MM-DD`) at instant `at` in `timeZone`. */
export function localDate(timeZone: string, at: Date): string {
  return new Date(wallClock(timeZone, at.getTime())).toISOString().slice(0, 10);
}

/** The first instant of the local date after the one `at` falls on (midnight, or the first instant after a DST gap). */
function startOfNextLocalDay(timeZone: string, at: Date): Date {
  const wall = wallClock(timeZone, at.getTime());
  const nextMidnight = wall - secondOfDay(wall) * 1000 + DAY_MS;
  for (let probe = nextMidnight; probe < nextMidnight + DAY_MS; probe += 3_600_000) {
    const instant = instantsForWall(timeZone, probe)[0];
    if (instant !== undefined) return new Date(instant);
  }
  return new Date(at.getTime() + DAY_MS);
}

/** `isOpen`, and the local date is not closed. */
export function isOpenOn(hours: ActiveHours, timeZone: string, at: Date, closed?: ClosedDates): boolean {
  return isOpen(hours, timeZone, at) && !(closed?.(localDate(timeZone, at)) ?? false);
}

/** `nextOpening` skipping closed local dates (searches up to a year ahead; null when nothing opens). */
export function nextOpeningOn(hours: ActiveHours, timeZone: string, from: Date, closed?: ClosedDates): Date | null {
  let cursor = from;
  for (let i = 0; i < 400; i++) {
    const opening = nextOpening(hours, timeZone, cursor);
    if (!opening) return null;
    if (!closed?.(localDate(timeZone, opening))) return opening;
    cursor = startOfNextLocalDay(timeZone, opening);
  }
  return null;
}

/**
 * When open at `at`: the first instant after it at which the hours close (a window's end, or midnight into a closed
 * date), following windows that continue (adjacent windows, a window to 24:00 and one from 00:00 the next day);
 * `at` itself when closed; null when they do not close within 16 windows (open around the clock).
 */
export function openUntil(hours: ActiveHours, timeZone: string, at: Date, closed?: ClosedDates): Date | null {
  let t = at.getTime();
  if (!isOpenOn(hours, timeZone, at, closed)) return at;
  for (let i = 0; i < 16; i++) {
    const wall = wallClock(timeZone, t);
    const second = secondOfDay(wall);
    const window = hours[weekdayOf(wall)].find(([start, end]) => start <= second && second < end);
    if (!window) return new Date(t);
    const endWall = wall - second * 1000 + window[1] * 1000;
    // A window ending inside a spring-forward gap ends when the gap does: the offset before it applied until then.
    const end = instantsForWall(timeZone, endWall)[0] ?? endWall - offsetAt(timeZone, t);
    if (end <= t || !isOpenOn(hours, timeZone, new Date(end), closed)) return new Date(Math.max(end, t));
    t = end;
  }
  return null;
}
