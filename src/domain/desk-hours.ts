/**
 * Desk hours (issue 20 B): when a tenant's or department's agents work, from the shared calendar pieces (weekly
 * active hours, holiday calendars, the tenant's closed dates). Pure: the SLA clock and the "desk opens at" message
 * are computed here and unit-tested; activities only load the settings.
 */
import {
  formatActiveHours,
  isValidTimeZone,
  nextOpeningOn,
  openUntil,
  parseActiveHours,
  type ActiveHours,
  type ClosedDates,
} from './active-hours';
import { holidayOn, holidayRules } from './holidays';

export interface DeskSchedule {
  timeZone: string;
  hours: ActiveHours;
  /** Holiday calendar ids (`BR`, `BR-SP`…). */
  holidays: string[];
  /** Local dates (`YYYY-MM-DD`) the tenant closes besides holidays. */
  closedDates: string[];
}

export class DeskHoursError extends Error {
  override name = 'DeskHoursError';
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Validates and normalizes what an operator typed; throws DeskHoursError naming the bad part. */
export function parseDeskSchedule(input: {
  timeZone: string;
  hours: string;
  holidays?: string[];
  closedDates?: string[];
}): DeskSchedule & { hoursSpec: string } {
  if (!isValidTimeZone(input.timeZone)) throw new DeskHoursError(`unknown time zone "${input.timeZone}"`);
  let hours: ActiveHours;
  try {
    hours = parseActiveHours(input.hours);
  } catch (error) {
    throw new DeskHoursError((error as Error).message);
  }
  const holidays = (input.holidays ?? []).map((c) => c.trim().toUpperCase()).filter(Boolean);
  for (const calendar of holidays) {
    try {
      holidayRules(calendar);
    } catch (error) {
      throw new DeskHoursError((error as Error).message);
    }
  }
  const closedDates = (input.closedDates ?? []).map((d) => d.trim()).filter(Boolean);
  for (const date of closedDates)
    if (!ISO_DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)))
      throw new DeskHoursError(`bad closed date "${date}" (use YYYY-MM-DD)`);
  return {
    timeZone: input.timeZone,
    hours,
    hoursSpec: formatActiveHours(hours),
    holidays: [...new Set(holidays)],
    closedDates: [...new Set(closedDates)].sort(),
  };
}

export const closedDatesOf =
  (schedule: DeskSchedule): ClosedDates =>
  (date) =>
    holidayOn(date, schedule.holidays, schedule.closedDates) !== null;

/** The desk is open at `at` (no schedule: always open). */
export function deskOpenAt(schedule: DeskSchedule | null, at: Date): boolean {
  return nextDeskOpening(schedule, at)?.getTime() === at.getTime();
}

/** `at` when open, else the next instant the desk opens; null when it never opens (no window at all). */
export function nextDeskOpening(schedule: DeskSchedule | null, at: Date): Date | null {
  if (!schedule) return at;
  return nextOpeningOn(schedule.hours, schedule.timeZone, at, closedDatesOf(schedule));
}

/**
 * `from` plus `ms` of desk time: the SLA clock stops while the desk is closed (nights, weekends, holidays). A wait
 * that starts while closed starts counting at the opening. null when the desk never opens.
 */
export function addDeskTime(schedule: DeskSchedule | null, from: Date, ms: number): Date | null {
  if (!schedule) return new Date(from.getTime() + ms);
  const closed = closedDatesOf(schedule);
  let t = nextOpeningOn(schedule.hours, schedule.timeZone, from, closed);
  let remaining = ms;
  for (let i = 0; t && i < 1000; i++) {
    const until = openUntil(schedule.hours, schedule.timeZone, t, closed);
    if (!until || t.getTime() + remaining <= until.getTime()) return new Date(t.getTime() + remaining);
    remaining -= until.getTime() - t.getTime();
    t = nextOpeningOn(schedule.hours, schedule.timeZone, until, closed);
  }
  return null;
}

/** Desk time (ms) between two instants: what an SLA report counts. */
export function deskTimeBetween(schedule: DeskSchedule | null, from: Date, to: Date): number {
  if (!schedule) return Math.max(0, to.getTime() - from.getTime());
  const closed = closedDatesOf(schedule);
  let total = 0;
  let t = nextOpeningOn(schedule.hours, schedule.timeZone, from, closed);
  for (let i = 0; t && t < to && i < 1000; i++) {
    const until = openUntil(schedule.hours, schedule.timeZone, t, closed);
    const end = !until || until > to ? to : until;
    total += end.getTime() - t.getTime();
    if (end === to) break;
    t = nextOpeningOn(schedule.hours, schedule.timeZone, end, closed);
  }
  return total;
}

/** "segunda-feira, 7 de dezembro às 08:00": the opening as the customer reads it, in the desk's zone and their language. */
export function formatOpening(at: Date, timeZone: string, locale: string): string {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat(locale, {
      timeZone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  } catch {
    format = new Intl.DateTimeFormat('pt-BR', {
      timeZone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }
  return format.format(at);
}
