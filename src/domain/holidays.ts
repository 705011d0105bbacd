/**
 * Holiday calendars: data plus pure functions, shared by the desk's hours and the outbound policy's contact hours.
 * A calendar is named by an id ("BR" national, "BR-SP" São Paulo state, …); adding a holiday is one line in a table.
 * Dates are local calendar dates (`YYYY-MM-DD`) in the recipient's or desk's time zone.
 */

export type HolidayRule =
  | { kind: 'fixed'; month: number; day: number; name: string; source: string }
  | { kind: 'easter'; offsetDays: number; name: string; source: string };

/**
 * Brazil's national holidays. Good Friday is a religious holiday (Lei 9.093/1995 art. 2) observed nationwide; the
 * federal calendar lists it with the civil ones. Carnival and Corpus Christi are optional federal days (pontos
 * facultativos), not holidays, and are therefore not here.
 */
const BR: HolidayRule[] = [
  { kind: 'fixed', month: 1, day: 1, name: 'Confraternização Universal', source: 'Lei 662/1949' },
  { kind: 'easter', offsetDays: -2, name: 'Sexta-feira da Paixão', source: 'Lei 9.093/1995 art. 2' },
  { kind: 'fixed', month: 4, day: 21, name: 'Tiradentes', source: 'Lei 662/1949' },
  { kind: 'fixed', month: 5, day: 1, name: 'Dia do Trabalho', source: 'Lei 662/1949' },
  { kind: 'fixed', month: 9, day: 7, name: 'Independência do Brasil', source: 'Lei 662/1949' },
  { kind: 'fixed', month: 10, day: 12, name: 'Nossa Senhora Aparecida', source: 'Lei 6.802/1980' },
  { kind: 'fixed', month: 11, day: 2, name: 'Finados', source: 'Lei 662/1949' },
  { kind: 'fixed', month: 11, day: 15, name: 'Proclamação da República', source: 'Lei 662/1949' },
  { kind: 'fixed', month: 11, day: 20, name: 'Zumbi e da Consciência Negra', source: 'Lei 14.759/2023' },
  { kind: 'fixed', month: 12, day: 25, name: 'Natal', source: 'Lei 662/1949' },
];

/** State holidays, keyed `BR-<UF>`; each state calendar includes the national one. */
const STATES: Record<string, HolidayRule[]> = {
  SP: [{ kind: 'fixed', month: 7, day: 9, name: 'Revolução Constitucionalista', source: 'Lei SP 9.497/1997' }],
  RJ: [{ kind: 'fixed', month: 4, day: 23, name: 'Dia de São Jorge', source: 'Lei RJ 5.198/2008' }],
};

export const HOLIDAY_CALENDARS: readonly string[] = ['BR', ...Object.keys(STATES).map((uf) => `BR-${uf}`)];

export class HolidayCalendarError extends Error {
  override name = 'HolidayCalendarError';
}

/** The rules of a calendar id; throws HolidayCalendarError for an unknown id. A state without a table of its own gets the national one. */
export function holidayRules(calendar: string): HolidayRule[] {
  const id = calendar.trim().toUpperCase();
  if (id === 'BR') return BR;
  const match = /^BR-([A-Z]{2})$/.exec(id);
  if (match) return [...BR, ...(STATES[match[1]!] ?? [])];
  throw new HolidayCalendarError(`unknown holiday calendar "${calendar}" (known: ${HOLIDAY_CALENDARS.join(', ')})`);
}

/** Gregorian Easter Sunday (anonymous Gregorian algorithm), as a UTC date. */
export function easterSunday(year: number): Date {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return new Date(Date.UTC(year, month - 1, day));
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

/** The holidays of `calendar` in `year`, as `YYYY-MM-DD` → name. */
export function holidaysIn(calendar: string, year: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const rule of holidayRules(calendar)) {
    if (rule.kind === 'fixed') out.set(iso(new Date(Date.UTC(year, rule.month - 1, rule.day))), rule.name);
    else {
      const easter = easterSunday(year);
      out.set(iso(new Date(easter.getTime() + rule.offsetDays * 86_400_000)), rule.name);
    }
  }
  return out;
}

/** The holiday's name when local date `isoDate` is a holiday in any of `calendars` or in `extraClosed`, else null. */
export function holidayOn(isoDate: string, calendars: readonly string[], extraClosed: readonly string[] = []): string | null {
  if (extraClosed.includes(isoDate)) return 'closed';
  const year = Number(isoDate.slice(0, 4));
  for (const calendar of calendars) {
    const name = holidaysIn(calendar, year).get(isoDate);
    if (name) return name;
  }
  return null;
}
