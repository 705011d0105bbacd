import { describe, expect, it } from 'vitest';
import {
  ActiveHoursError,
  DEFAULT_ACTIVE_HOURS,
  formatActiveHours,
  isOpen,
  isValidTimeZone,
  nextOpening,
  parseActiveHours,
  type ActiveHours,
} from '../../src/domain/active-hours';

const h = (hh: number, mm = 0, ss = 0) => hh * 3600 + mm * 60 + ss;
const at = (iso: string) => new Date(iso);
const next = (hours: ActiveHours, tz: string, from: string) => nextOpening(hours, tz, at(from))?.toISOString() ?? null;

describe('parseActiveHours', () => {
  it('parses the ANATEL default: weekdays 08-20, Saturday 08-14, Sunday closed', () => {
    expect(DEFAULT_ACTIVE_HOURS).toEqual({
      mon: [[h(8), h(20)]],
      tue: [[h(8), h(20)]],
      wed: [[h(8), h(20)]],
      thu: [[h(8), h(20)]],
      fri: [[h(8), h(20)]],
      sat: [[h(8), h(14)]],
      sun: [],
    });
  });

  it('accepts lists, wrapping ranges, several windows, seconds, 24:00, daily/all, always and any case', () => {
    expect(parseActiveHours('Sat, SUN 10:00-12:00:30 , 13:00-14:00')).toMatchObject({
      mon: [],
      sat: [
        [h(10), h(12, 0, 30)],
        [h(13), h(14)],
      ],
      sun: [
        [h(10), h(12, 0, 30)],
        [h(13), h(14)],
      ],
    });
    const wrapped = parseActiveHours('fri-mon 9:00-17:00');
    expect(
      Object.entries(wrapped)
        .filter(([, w]) => w.length > 0)
        .map(([d]) => d),
    ).toEqual(['mon', 'fri', 'sat', 'sun']);
    expect(parseActiveHours('daily 20:00-24:00').sun).toEqual([[h(20), h(24)]]);
    expect(parseActiveHours('all 00:00-01:00')).toEqual(parseActiveHours('mon-sun 00:00-01:00'));
    expect(parseActiveHours(' Always ')).toEqual(parseActiveHours('daily 00:00-24:00'));
    expect(parseActiveHours('never').mon).toEqual([]);
    // Separate clauses may add windows to the same day; they are kept sorted.
    expect(parseActiveHours('mon 13:00-14:00; mon-fri 08:00-12:00').mon).toEqual([
      [h(8), h(12)],
      [h(13), h(14)],
    ]);
    // Touching windows do not overlap: end is exclusive.
    expect(parseActiveHours('mon 08:00-12:00,12:00-13:00').mon).toHaveLength(2);
  });

  it.each([
    ['', /empty active hours/],
    [';', /empty active hours/],
    ['mon-fri', /bad clause "mon-fri"/],
    ['funday 08:00-09:00', /unknown day "funday" in "funday 08:00-09:00"/],
    ['mon-fri-sat 08:00-09:00', /bad day range/],
    ['mon,,tue 08:00-09:00', /empty day/],
    ['mon 25:00-26:00', /bad time "25:00" in "mon 25:00-26:00"/],
    ['mon 08:60-09:00', /bad time "08:60"/],
    ['mon 24:00-24:00', /bad time "24:00"/],
    ['mon 08:00-24:01', /bad time "24:01"/],
    ['mon 08:00', /bad time window "08:00" in "mon 08:00"/],
    ['mon 08:00-09:00-10:00', /bad time window/],
    ['mon 8am-9pm', /bad/],
    ['mon 09:00-08:00', /ends before it starts.*two windows/],
    ['mon 22:00-02:00', /ends before it starts/],
    ['mon 09:00-09:00', /ends before it starts/],
    ['mon 08:00-12:00,11:00-13:00', /overlapping windows on mon: 08:00-12:00 and 11:00-13:00/],
    ['mon-fri 08:00-12:00; wed 11:59:59-13:00', /overlapping windows on wed/],
  ])('rejects %j', (spec, message) => {
    expect(() => parseActiveHours(spec)).toThrow(ActiveHoursError);
    expect(() => parseActiveHours(spec)).toThrow(message);
  });
});

describe('formatActiveHours', () => {
  it.each([
    ['mon-fri 08:00-20:00; sat 08:00-14:00', 'mon-fri 08:00-20:00; sat 08:00-14:00'],
    ['SAT-MON 9:00-10:00:30', 'mon,sat,sun 09:00-10:00:30'],
    [
      'mon,wed,thu,fri 08:00-09:00; tue 10:00-11:00,12:00-24:00',
      'mon,wed-fri 08:00-09:00; tue 10:00-11:00,12:00-24:00',
    ],
    ['daily 08:00-20:00', 'daily 08:00-20:00'],
    ['daily 00:00-24:00', 'always'],
    ['always', 'always'],
    ['never', 'never'],
  ])('%j → %j, and it parses back to the same hours', (spec, canonical) => {
    const hours = parseActiveHours(spec);
    expect(formatActiveHours(hours)).toBe(canonical);
    expect(parseActiveHours(canonical)).toEqual(hours);
  });
});

describe('time zones', () => {
  it('validates IANA names', () => {
    expect(isValidTimeZone('America/Sao_Paulo')).toBe(true);
    expect(isValidTimeZone('Asia/Kolkata')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });

  it('throws ActiveHoursError for an unknown zone', () => {
    expect(() => isOpen(DEFAULT_ACTIVE_HOURS, 'Mars/Olympus_Mons', new Date())).toThrow(ActiveHoursError);
  });
});

describe('isOpen', () => {
  // America/Sao_Paulo is UTC-3 all year (no DST since 2019). 2026-05-11 is a Monday.
  it('is start-inclusive and end-exclusive, to the second, in the target zone', () => {
    const sp = 'America/Sao_Paulo';
    expect(isOpen(DEFAULT_ACTIVE_HOURS, sp, at('2026-05-11T10:59:59.999Z'))).toBe(false);
    expect(isOpen(DEFAULT_ACTIVE_HOURS, sp, at('2026-05-11T11:00:00Z'))).toBe(true);
    expect(isOpen(DEFAULT_ACTIVE_HOURS, sp, at('2026-05-11T22:59:59Z'))).toBe(true);
    expect(isOpen(DEFAULT_ACTIVE_HOURS, sp, at('2026-05-11T23:00:00Z'))).toBe(false);
    // Saturday closes at 14:00, Sunday is closed.
    expect(isOpen(DEFAULT_ACTIVE_HOURS, sp, at('2026-05-09T16:59:59Z'))).toBe(true);
    expect(isOpen(DEFAULT_ACTIVE_HOURS, sp, at('2026-05-09T17:00:00Z'))).toBe(false);
    expect(isOpen(DEFAULT_ACTIVE_HOURS, sp, at('2026-05-10T15:00:00Z'))).toBe(false);
    // 23:30Z is Monday 23:30 in UTC but Monday 20:30 in Sao Paulo.
    expect(isOpen(parseActiveHours('mon 23:00-24:00'), 'UTC', at('2026-05-11T23:30:00Z'))).toBe(true);
    expect(isOpen(parseActiveHours('mon 23:00-24:00'), sp, at('2026-05-11T23:30:00Z'))).toBe(false);
  });

  it('handles half-hour offsets (Asia/Kolkata, +05:30)', () => {
    const hours = parseActiveHours('daily 09:00-18:00');
    expect(isOpen(hours, 'Asia/Kolkata', at('2026-05-12T03:29:59Z'))).toBe(false);
    expect(isOpen(hours, 'Asia/Kolkata', at('2026-05-12T03:30:00Z'))).toBe(true);
    expect(isOpen(hours, 'Asia/Kolkata', at('2026-05-12T12:29:59Z'))).toBe(true);
    expect(isOpen(hours, 'Asia/Kolkata', at('2026-05-12T12:30:00Z'))).toBe(false);
  });
});

describe('nextOpening', () => {
  const sp = 'America/Sao_Paulo';

  it('returns `from` itself while open', () => {
    const from = at('2026-05-11T12:00:00.250Z');
    expect(nextOpening(DEFAULT_ACTIVE_HOURS, sp, from)).toBe(from);
  });

  it('skips the weekend: Saturday 14:00 and Sunday both wait for Monday 08:00', () => {
    expect(next(DEFAULT_ACTIVE_HOURS, sp, '2026-05-09T17:00:00Z')).toBe('2026-05-11T11:00:00.000Z');
    expect(next(DEFAULT_ACTIVE_HOURS, sp, '2026-05-10T20:00:00Z')).toBe('2026-05-11T11:00:00.000Z');
    expect(next(DEFAULT_ACTIVE_HOURS, sp, '2026-05-11T10:59:59.500Z')).toBe('2026-05-11T11:00:00.000Z');
    // After Friday 20:00 comes Saturday 08:00.
    expect(next(DEFAULT_ACTIVE_HOURS, sp, '2026-05-15T23:00:00Z')).toBe('2026-05-16T11:00:00.000Z');
  });

  it('finds a window a few seconds ahead, and one a week ahead', () => {
    expect(next(parseActiveHours('mon 10:00:05-10:00:10'), 'UTC', '2026-05-11T10:00:00Z')).toBe(
      '2026-05-11T10:00:05.000Z',
    );
    expect(next(parseActiveHours('mon 10:00:05-10:00:10'), 'UTC', '2026-05-11T10:00:10Z')).toBe(
      '2026-05-18T10:00:05.000Z',
    );
  });

  it('handles Asia/Kolkata (+05:30)', () => {
    expect(next(parseActiveHours('daily 09:00-18:00'), 'Asia/Kolkata', '2026-05-11T12:30:00Z')).toBe(
      '2026-05-12T03:30:00.000Z',
    );
  });

  it('is null when the hours never open', () => {
    expect(nextOpening(parseActiveHours('never'), sp, new Date())).toBeNull();
  });

  describe('across DST in America/New_York', () => {
    const ny = 'America/New_York';
    // 2026-03-08 (Sunday) 02:00 EST → 03:00 EDT at 07:00Z; 2026-11-01 (Sunday) 02:00 EDT → 01:00 EST at 06:00Z.
    it('uses the new offset after spring forward', () => {
      expect(next(parseActiveHours('daily 09:00-17:00'), ny, '2026-03-07T23:00:00Z')).toBe('2026-03-08T13:00:00.000Z');
      expect(next(parseActiveHours('daily 09:00-17:00'), ny, '2026-03-06T23:00:00Z')).toBe('2026-03-07T14:00:00.000Z');
    });

    it('opens a window that starts inside the spring-forward gap at the first instant after it', () => {
      expect(next(parseActiveHours('sun 02:30-05:00'), ny, '2026-03-08T05:00:00Z')).toBe('2026-03-08T07:00:00.000Z');
      // A window entirely inside the gap does not exist that day: next Sunday.
      expect(next(parseActiveHours('sun 02:00-02:59'), ny, '2026-03-08T05:00:00Z')).toBe('2026-03-15T06:00:00.000Z');
    });

    it('uses the new offset after fall back, and finds repeated wall-clock times', () => {
      expect(next(parseActiveHours('daily 09:00-17:00'), ny, '2026-10-31T22:00:00Z')).toBe('2026-11-01T14:00:00.000Z');
      const repeated = parseActiveHours('sun 01:30-01:45');
      expect(next(repeated, ny, '2026-11-01T05:00:00Z')).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT
      expect(next(repeated, ny, '2026-11-01T05:50:00Z')).toBe('2026-11-01T06:30:00.000Z'); // 01:30 EST, the second time
      // At 01:45 EDT the clock is past 00:30-01:30; falling back to 01:00 EST re-enters it.
      expect(next(parseActiveHours('sun 00:30-01:30'), ny, '2026-11-01T05:45:00Z')).toBe('2026-11-01T06:00:00.000Z');
    });
  });

  it('handles Europe/London spring forward (01:00 GMT → 02:00 BST on 2026-03-29)', () => {
    expect(next(parseActiveHours('sun 01:30-03:00'), 'Europe/London', '2026-03-29T00:00:00Z')).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    expect(next(parseActiveHours('daily 08:00-20:00'), 'Europe/London', '2026-03-28T21:00:00Z')).toBe(
      '2026-03-29T07:00:00.000Z',
    );
    // 2026-10-25 02:00 BST → 01:00 GMT: Monday 08:00 is GMT again.
    expect(next(parseActiveHours('daily 08:00-20:00'), 'Europe/London', '2026-10-25T20:00:00Z')).toBe(
      '2026-10-26T08:00:00.000Z',
    );
  });

  it('always returns an open instant with nothing open before it (random instants, several zones)', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const schedules = [
      DEFAULT_ACTIVE_HOURS,
      parseActiveHours('sun 01:30-01:45; wed 02:10-02:20'),
      parseActiveHours('daily 00:00-00:30,23:30-24:00'),
    ];
    for (let i = 0; i < 120; i++) {
      const zone = ['America/New_York', 'Europe/London', 'Asia/Kolkata', 'America/Sao_Paulo', 'Australia/Lord_Howe'][
        i % 5
      ]!;
      const hours = schedules[i % 3]!;
      const from = new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 365 * 86_400) * 1000);
      const opening = nextOpening(hours, zone, from)!;
      expect(isOpen(hours, zone, opening)).toBe(true);
      expect(opening.getTime()).toBeGreaterThanOrEqual(from.getTime());
      for (let t = from.getTime(); t < opening.getTime(); t += 300_000)
        expect(isOpen(hours, zone, new Date(t))).toBe(false);
      if (opening !== from) expect(isOpen(hours, zone, new Date(opening.getTime() - 1000))).toBe(false);
    }
  });
});
