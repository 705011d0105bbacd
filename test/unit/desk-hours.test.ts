import { describe, expect, it } from 'vitest';
import {
  addDeskTime,
  deskOpenAt,
  deskTimeBetween,
  DeskHoursError,
  formatOpening,
  nextDeskOpening,
  parseDeskSchedule,
} from '../../src/domain/desk-hours';
import { openUntil, parseActiveHours } from '../../src/domain/active-hours';

const SP = 'America/Sao_Paulo'; // UTC-3 all year (no DST since 2019)
const desk = parseDeskSchedule({ timeZone: SP, hours: 'mon-fri 08:00-18:00; sat 08:00-12:00', holidays: ['BR'] });
const weekdays = parseDeskSchedule({ timeZone: SP, hours: 'mon-fri 08:00-18:00', holidays: ['BR-SP'] });
const at = (iso: string) => new Date(iso);

describe('desk hours (issue 20 B)', () => {
  it('parses and normalizes, and names what is wrong', () => {
    expect(
      parseDeskSchedule({
        timeZone: SP,
        hours: 'Mon-Fri 08:00-18:00',
        holidays: ['br-sp', 'BR-SP'],
        closedDates: ['2026-12-31', '2026-12-24'],
      }),
    ).toMatchObject({
      hoursSpec: 'mon-fri 08:00-18:00',
      holidays: ['BR-SP'],
      closedDates: ['2026-12-24', '2026-12-31'],
    });
    expect(() => parseDeskSchedule({ timeZone: 'Mars/Olympus', hours: 'always' })).toThrow(DeskHoursError);
    expect(() => parseDeskSchedule({ timeZone: SP, hours: 'mon 18:00-08:00' })).toThrow(/ends before it starts/);
    expect(() => parseDeskSchedule({ timeZone: SP, hours: 'always', holidays: ['XX'] })).toThrow(
      /unknown holiday calendar/,
    );
    expect(() => parseDeskSchedule({ timeZone: SP, hours: 'always', closedDates: ['24/12/2026'] })).toThrow(
      /YYYY-MM-DD/,
    );
  });

  it('the next opening across a weekend', () => {
    // Friday 2026-11-13 18:30 local, weekdays only → Monday 2026-11-16 08:00 local (11:00Z).
    expect(nextDeskOpening(weekdays, at('2026-11-13T21:30:00Z'))).toEqual(at('2026-11-16T11:00:00Z'));
    // With Saturday mornings: Saturday 08:00.
    expect(nextDeskOpening(desk, at('2026-11-13T21:30:00Z'))).toEqual(at('2026-11-14T11:00:00Z'));
    // Open now: now.
    expect(nextDeskOpening(desk, at('2026-11-13T14:00:00Z'))).toEqual(at('2026-11-13T14:00:00Z'));
    expect(deskOpenAt(desk, at('2026-11-13T14:00:00Z'))).toBe(true);
    expect(deskOpenAt(desk, at('2026-11-13T21:30:00Z'))).toBe(false);
  });

  it('the next opening across a weekend and a holiday', () => {
    // Friday 2026-10-09 18:30; Monday 2026-10-12 is Nossa Senhora Aparecida (national) → Tuesday 08:00.
    expect(nextDeskOpening(weekdays, at('2026-10-09T21:30:00Z'))).toEqual(at('2026-10-13T11:00:00Z'));
    // Thursday 2026-11-19 19:00; Friday 20 is Consciência Negra → Saturday 08:00 on the desk open Saturdays.
    expect(nextDeskOpening(desk, at('2026-11-19T22:00:00Z'))).toEqual(at('2026-11-21T11:00:00Z'));
    // A state holiday (9 July, São Paulo) and a tenant's own closed date.
    expect(nextDeskOpening(weekdays, at('2026-07-08T22:00:00Z'))).toEqual(at('2026-07-10T11:00:00Z'));
    const closing = parseDeskSchedule({ timeZone: SP, hours: 'mon-fri 08:00-18:00', closedDates: ['2026-12-24'] });
    expect(nextDeskOpening(closing, at('2026-12-23T22:00:00Z'))).toEqual(at('2026-12-25T11:00:00Z'));
  });

  it('counts SLA time in desk hours only', () => {
    // 15 minutes from Friday 17:50: 10 minutes on Friday, 5 on Tuesday after the weekend and the Monday holiday.
    expect(addDeskTime(weekdays, at('2026-10-09T20:50:00Z'), 15 * 60_000)).toEqual(at('2026-10-13T11:05:00Z'));
    // From a closed moment the clock starts at the opening.
    expect(addDeskTime(weekdays, at('2026-10-10T12:00:00Z'), 15 * 60_000)).toEqual(at('2026-10-13T11:15:00Z'));
    // Within the day.
    expect(addDeskTime(weekdays, at('2026-10-13T13:00:00Z'), 15 * 60_000)).toEqual(at('2026-10-13T13:15:00Z'));
    // No schedule: wall time.
    expect(addDeskTime(null, at('2026-10-10T12:00:00Z'), 60_000)).toEqual(at('2026-10-10T12:01:00Z'));
    // Desk time between two instants is the inverse.
    expect(deskTimeBetween(weekdays, at('2026-10-09T20:50:00Z'), at('2026-10-13T11:05:00Z'))).toBe(15 * 60_000);
    // A desk that never opens has no deadline.
    expect(addDeskTime(parseDeskSchedule({ timeZone: SP, hours: 'never' }), at('2026-10-10T12:00:00Z'), 1)).toBeNull();
  });

  it('windows that continue across midnight or into each other do not close', () => {
    const hours = parseActiveHours('daily 00:00-24:00');
    expect(openUntil(hours, SP, at('2026-10-10T12:00:00Z'))).toBeNull();
    const split = parseActiveHours('mon-fri 08:00-12:00,12:00-18:00');
    expect(openUntil(split, SP, at('2026-10-13T12:00:00Z'))).toEqual(at('2026-10-13T21:00:00Z'));
    // A 24-hour desk that closes on a holiday closes at its midnight.
    expect(openUntil(hours, SP, at('2026-10-11T12:00:00Z'), (d) => d === '2026-10-12')).toEqual(
      at('2026-10-12T03:00:00Z'),
    );
  });

  it('tells the opening in the customer’s language and the desk’s zone', () => {
    expect(formatOpening(at('2026-10-13T11:00:00Z'), SP, 'pt-BR')).toBe('terça-feira, 13 de outubro às 08:00');
    expect(formatOpening(at('2026-10-13T11:00:00Z'), SP, 'en')).toMatch(/Tuesday, October 13.*08:00/);
  });
});
