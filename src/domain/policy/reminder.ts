import { localDate, nextOpeningOn, parseActiveHours } from '../active-hours';
import { startOfLocalDate } from './gate';

const REMINDER_HOUR = parseActiveHours('daily 10:00-24:00');

/**
 * Issue 21 E: the reminder goes out at 10:00 local on the day `from` (due date minus PROMISE_REMINDER_BEFORE) falls
 * on — the day before the due date by default — rather than at the minute it lands on (23:59:59 for a date-only due
 * date); when that 10:00 is already past (or after `from`), at `from`. The gate still decides the hour.
 */
export function reminderInstant(from: number, timeZone: string, now: number): number {
  const day = localDate(timeZone, new Date(from));
  const ten = nextOpeningOn(REMINDER_HOUR, timeZone, startOfLocalDate(timeZone, new Date(from), day))!.getTime();
  return ten > now && ten <= from ? ten : from;
}
