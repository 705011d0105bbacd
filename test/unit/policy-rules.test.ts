import { describe, expect, it } from 'vitest';
import { DDD_TO_UF, stateOf } from '../../src/domain/policy/ddd';
import { jurisdictionOf, STATE_TIME_ZONES, intersectHours, RULES_VERSION } from '../../src/domain/policy/rules';
import { decide, DEFAULT_MAX_PER_DAY, DEFAULT_MAX_PER_WEEK, type GateInput } from '../../src/domain/policy/gate';
import { reminderInstant } from '../../src/domain/policy/reminder';
import { endOfLocalDay } from '../../src/domain/zoned-time';
import { parseActiveHours, formatActiveHours, isValidTimeZone } from '../../src/domain/active-hours';

const SP = '+5511987654321';
const RJ = '+5521987654321';

const base = (over: Partial<GateInput> = {}): GateInput => ({
  purpose: 'collection',
  customerOpened: false,
  to: { e164: SP, channel: 'whatsapp' },
  contactTimeZone: null,
  optedOut: false,
  suppressed: false,
  dnc: [],
  tenantHours: {},
  frequency: { today: 0, thisWeek: 0, maxPerDay: DEFAULT_MAX_PER_DAY, maxPerWeek: DEFAULT_MAX_PER_WEEK },
  ...over,
});
const at = (iso: string) => new Date(iso);
const verdict = (input: GateInput, iso: string) => {
  const d = decide(input, at(iso));
  return d.decision === 'hold' ? `hold ${d.until!.toISOString()}` : d.decision;
};

describe('DDD table', () => {
  it('maps all 67 area codes in use to a state with a zone', () => {
    expect(DDD_TO_UF.size).toBe(67);
    expect(new Set(DDD_TO_UF.values()).size).toBe(27);
    for (const zone of Object.values(STATE_TIME_ZONES)) expect(isValidTimeZone(zone)).toBe(true);
    expect(stateOf('+5511987654321')).toBe('SP');
    expect(stateOf('+551933334444')).toBe('SP');
    expect(stateOf('+5521987654321')).toBe('RJ');
    expect(stateOf('+5561987654321')).toBe('DF');
    expect(stateOf('+5568987654321')).toBe('AC');
    expect(stateOf('+5520987654321')).toBeNull(); // DDD 20 is not in use
    expect(stateOf('+14155550100')).toBeNull();
  });
  it('gives each state its rule and zone, foreign numbers the default', () => {
    expect(jurisdictionOf(SP).rule.source).toMatch(/15\.426\/2014 art\. 2/);
    expect(jurisdictionOf(RJ).rule.source).toMatch(/7\.868\/2018/);
    expect(jurisdictionOf('+5592987654321')).toMatchObject({ uf: 'AM', timeZone: 'America/Manaus' });
    expect(jurisdictionOf('+5568987654321').timeZone).toBe('America/Rio_Branco');
    expect(jurisdictionOf('+14155550100', 'America/New_York')).toMatchObject({
      uf: null,
      timeZone: 'America/New_York',
    });
    expect(jurisdictionOf('+5531987654321').rule.source).toMatch(/conservative default/);
    expect(RULES_VERSION).toMatch(/^br-/);
  });
});

describe('contact hours (Done means)', () => {
  it('São Paulo, weekday: 19:59 sends, 20:00 holds to 08:00 next day', () => {
    expect(verdict(base(), '2026-12-07T19:59:00-03:00')).toBe('send');
    expect(verdict(base(), '2026-12-07T20:00:00-03:00')).toBe('hold 2026-12-08T11:00:00.000Z');
    expect(verdict(base(), '2026-12-07T07:59:59-03:00')).toBe('hold 2026-12-07T11:00:00.000Z');
  });
  it('São Paulo, Saturday: 13:59 sends, 14:00 holds to Monday 08:00 (never Sunday)', () => {
    expect(verdict(base(), '2026-12-12T13:59:00-03:00')).toBe('send');
    expect(verdict(base(), '2026-12-12T14:00:00-03:00')).toBe('hold 2026-12-14T11:00:00.000Z');
    expect(verdict(base(), '2026-12-13T10:00:00-03:00')).toBe('hold 2026-12-14T11:00:00.000Z');
  });
  it('holidays: 2026-12-25 (Friday) holds to Saturday 08:00; SP state holiday 9 July', () => {
    expect(verdict(base(), '2026-12-25T10:00:00-03:00')).toBe('hold 2026-12-26T11:00:00.000Z');
    const d = decide(base(), at('2026-12-25T10:00:00-03:00'));
    expect(d.checks.find((c) => c.name === 'contact_hours')!.input.holiday).toBe('Natal');
    expect(verdict(base(), '2026-07-09T10:00:00-03:00')).toBe('hold 2026-07-10T11:00:00.000Z');
    expect(verdict(base({ to: { e164: RJ, channel: 'sms' } }), '2026-07-09T10:00:00-03:00')).toBe('send');
  });
  it('Rio de Janeiro: 08:59 holds to 09:00, 09:00 sends, Saturday holds to Monday 09:00, 19:00 holds', () => {
    const rj = base({ to: { e164: RJ, channel: 'sms' } });
    expect(verdict(rj, '2026-12-07T08:59:00-03:00')).toBe('hold 2026-12-07T12:00:00.000Z');
    expect(verdict(rj, '2026-12-07T09:00:00-03:00')).toBe('send');
    expect(verdict(rj, '2026-12-07T19:00:00-03:00')).toBe('hold 2026-12-08T12:00:00.000Z');
    expect(verdict(rj, '2026-12-12T10:00:00-03:00')).toBe('hold 2026-12-14T12:00:00.000Z');
  });
  it('evaluates a Manaus number in its own zone', () => {
    const am = base({ to: { e164: '+5592987654321', channel: 'sms' } });
    // 20:30 in São Paulo is 19:30 in Manaus: still lawful there.
    expect(verdict(am, '2026-12-07T20:30:00-03:00')).toBe('send');
  });
  it('a number outside Brazil gets no statutory window, only the tenant narrowing', () => {
    const us = base({ to: { e164: '+15555550100', channel: 'sms' }, contactTimeZone: 'America/New_York' });
    expect(verdict(us, '2026-12-13T03:00:00Z')).toBe('send');
    const narrowed = { ...us, tenantHours: { collection: parseActiveHours('mon-fri 09:00-17:00') } };
    expect(verdict(narrowed, '2026-12-13T15:00:00Z')).toBe('hold 2026-12-14T14:00:00.000Z');
  });
  it('marketing follows the same window; utility and service replies are not held by the law', () => {
    expect(verdict(base({ purpose: 'marketing' }), '2026-12-07T23:00:00-03:00')).toMatch(/^hold/);
    expect(verdict(base({ purpose: 'utility' }), '2026-12-07T23:00:00-03:00')).toBe('send');
    expect(verdict(base({ purpose: 'service', customerOpened: true }), '2026-12-13T23:00:00-03:00')).toBe('send');
  });
  it('a tenant narrows, never widens', () => {
    const narrow = base({ tenantHours: { collection: parseActiveHours('mon-fri 10:00-12:00') } });
    expect(verdict(narrow, '2026-12-07T09:00:00-03:00')).toBe('hold 2026-12-07T13:00:00.000Z');
    const wide = base({ tenantHours: { collection: parseActiveHours('always') } });
    expect(verdict(wide, '2026-12-07T22:00:00-03:00')).toBe('hold 2026-12-08T11:00:00.000Z');
    expect(verdict(wide, '2026-12-13T10:00:00-03:00')).toMatch(/^hold/);
    expect(
      formatActiveHours(intersectHours(parseActiveHours('mon-sat 08:00-20:00'), parseActiveHours('daily 12:00-23:00'))),
    ).toBe('mon-sat 12:00-20:00');
    const utility = base({ purpose: 'utility', tenantHours: { utility: parseActiveHours('daily 09:00-10:00') } });
    expect(verdict(utility, '2026-12-13T11:00:00-03:00')).toBe('hold 2026-12-14T12:00:00.000Z');
  });
});

describe('refusals and caps', () => {
  it('refuses opted-out and suppressed contacts, but answers a customer who wrote', () => {
    expect(decide(base({ optedOut: true }), at('2026-12-07T10:00:00-03:00'))).toMatchObject({
      decision: 'refuse',
      reason: expect.stringMatching(/opted out/),
    });
    expect(verdict(base({ suppressed: true }), '2026-12-07T10:00:00-03:00')).toBe('refuse');
    expect(
      verdict(base({ purpose: 'service', customerOpened: true, optedOut: true }), '2026-12-07T10:00:00-03:00'),
    ).toBe('send');
  });
  it('Procon-SP: collection and marketing to DDD 11–19 from day 30 after registration', () => {
    const listed = (registeredAt: string) =>
      base({ dnc: [{ list: 'procon-sp', scope: 'procon-sp', registeredAt: new Date(registeredAt) }] });
    expect(verdict(listed('2026-10-01T00:00:00Z'), '2026-12-07T10:00:00-03:00')).toBe('refuse');
    expect(verdict(listed('2026-11-20T00:00:00Z'), '2026-12-07T10:00:00-03:00')).toBe('send');
    expect(verdict({ ...listed('2026-10-01T00:00:00Z'), purpose: 'utility' }, '2026-12-07T10:00:00-03:00')).toBe(
      'send',
    );
    const rj = { ...listed('2026-10-01T00:00:00Z'), to: { e164: RJ, channel: 'sms' } };
    expect(verdict(rj, '2026-12-07T10:00:00-03:00')).toBe('send');
  });
  it("Não Me Perturbe covers marketing; a tenant's own list everything business-initiated", () => {
    const nmp = base({ dnc: [{ list: 'nmp', scope: 'nao-me-perturbe', registeredAt: null }] });
    expect(verdict(nmp, '2026-12-07T10:00:00-03:00')).toBe('send');
    expect(verdict({ ...nmp, purpose: 'marketing' }, '2026-12-07T10:00:00-03:00')).toBe('refuse');
    const own = base({ purpose: 'utility', dnc: [{ list: 'own', scope: 'tenant', registeredAt: null }] });
    expect(verdict(own, '2026-12-07T10:00:00-03:00')).toBe('refuse');
    expect(verdict({ ...own, purpose: 'service', customerOpened: true }, '2026-12-07T10:00:00-03:00')).toBe('send');
  });
  it('the sixth business-initiated message of a day is held to the next lawful instant', () => {
    const f = (today: number, thisWeek = today) =>
      base({ frequency: { today, thisWeek, maxPerDay: 5, maxPerWeek: 15 } });
    expect(verdict(f(4), '2026-12-07T10:00:00-03:00')).toBe('send');
    expect(verdict(f(5), '2026-12-07T10:00:00-03:00')).toBe('hold 2026-12-08T11:00:00.000Z');
    // Saturday's cap waits past Sunday to Monday 08:00.
    expect(verdict(f(5), '2026-12-12T10:00:00-03:00')).toBe('hold 2026-12-14T11:00:00.000Z');
    // The week's cap waits for the next ISO week.
    expect(verdict(f(1, 15), '2026-12-09T10:00:00-03:00')).toBe('hold 2026-12-14T11:00:00.000Z');
    expect(verdict({ ...f(9), purpose: 'utility' }, '2026-12-07T10:00:00-03:00')).toBe('send');
  });
  it('refusals win over holds, and every check is listed', () => {
    const d = decide(
      base({ optedOut: true, frequency: { today: 9, thisWeek: 9, maxPerDay: 5, maxPerWeek: 15 } }),
      at('2026-12-13T10:00:00-03:00'),
    );
    expect(d.decision).toBe('refuse');
    expect(d.checks.map((c) => c.name)).toEqual(['opt_out', 'contact_hours', 'frequency_cap']);
  });
});

describe('promise reminder instant (E)', () => {
  it('a date-only due date is reminded at 10:00 local the day before, not at 23:59:59', () => {
    const due = endOfLocalDay('2026-12-20', 'America/Sao_Paulo');
    const at = reminderInstant(due - 86_400_000, 'America/Sao_Paulo', Date.parse('2026-12-07T12:00:00Z'));
    expect(new Date(at).toISOString()).toBe('2026-12-19T13:00:00.000Z');
  });
  it('keeps the configured instant when 10:00 has passed or comes after it', () => {
    const now = Date.parse('2026-12-07T16:00:00Z');
    expect(reminderInstant(now + 5000, 'America/Sao_Paulo', now)).toBe(now + 5000);
    const early = Date.parse('2026-12-09T11:00:00Z'); // 08:00 in São Paulo, before 10:00
    expect(reminderInstant(early, 'America/Sao_Paulo', now)).toBe(early);
  });
});
