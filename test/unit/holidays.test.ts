import { describe, expect, it } from 'vitest';
import { easterSunday, holidayOn, holidaysIn, HolidayCalendarError, holidayRules } from '../../src/domain/holidays';
import { nextOpeningOn, isOpenOn, parseActiveHours, localDate } from '../../src/domain/active-hours';

describe('holiday calendars', () => {
  it('computes Easter and Good Friday', () => {
    expect(easterSunday(2026).toISOString().slice(0, 10)).toBe('2026-04-05');
    expect(easterSunday(2027).toISOString().slice(0, 10)).toBe('2027-03-28');
    expect(easterSunday(2025).toISOString().slice(0, 10)).toBe('2025-04-20');
    expect(holidaysIn('BR', 2026).get('2026-04-03')).toBe('Sexta-feira da Paixão');
  });
  it('lists national and state holidays', () => {
    expect(holidayOn('2026-12-25', ['BR'])).toBe('Natal');
    expect(holidayOn('2026-11-20', ['BR'])).toBe('Zumbi e da Consciência Negra');
    expect(holidayOn('2026-07-09', ['BR'])).toBeNull();
    expect(holidayOn('2026-07-09', ['BR-SP'])).toBe('Revolução Constitucionalista');
    expect(holidayOn('2026-04-23', ['BR-RJ'])).toBe('Dia de São Jorge');
    expect(holidayOn('2026-12-24', ['BR'], ['2026-12-24'])).toBe('closed');
    expect(holidayRules('BR-MG').length).toBe(holidayRules('BR').length);
    expect(() => holidayRules('XX')).toThrow(HolidayCalendarError);
  });
  it('skips closed dates when finding the next opening', () => {
    const hours = parseActiveHours('mon-fri 08:00-18:00; sat 08:00-12:00');
    const tz = 'America/Sao_Paulo';
    const closed = (d: string) => holidayOn(d, ['BR']) !== null;
    // Thursday 2026-12-24 20:00 local → Friday 25 is Christmas → Saturday 26 08:00.
    const from = new Date('2026-12-24T20:00:00-03:00');
    expect(nextOpeningOn(hours, tz, from, closed)?.toISOString()).toBe('2026-12-26T11:00:00.000Z');
    expect(isOpenOn(hours, tz, new Date('2026-12-25T10:00:00-03:00'), closed)).toBe(false);
    expect(isOpenOn(hours, tz, new Date('2026-12-23T10:00:00-03:00'), closed)).toBe(true);
    expect(localDate(tz, new Date('2026-12-25T02:00:00Z'))).toBe('2026-12-24');
  });
});
