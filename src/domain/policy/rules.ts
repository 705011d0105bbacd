/**
 * Contact-hour rules for business-initiated messages in Brazil, as data: one line per state whose law sets the
 * hours, with its source; every other state gets the conservative default. Pure: no I/O.
 * Bump RULES_VERSION whenever a rule, a holiday or a default changes: each send decision records it.
 */
import { parseActiveHours, type ActiveHours } from '../active-hours';
import { stateOf, type Uf } from './ddd';

export const RULES_VERSION = 'br-2026-12-06.1';

/** What a send is for. `service`: an answer in a conversation; the others are business-initiated categories. */
export const POLICY_PURPOSES = ['service', 'collection', 'marketing', 'utility'] as const;
export type PolicyPurpose = (typeof POLICY_PURPOSES)[number];

export interface ContactHourRule {
  /** Local hours in which contact is lawful; holidays of the state's calendar are closed whatever the weekday. */
  hours: string;
  holidays: boolean;
  source: string;
}

/**
 * CDC (Lei 8.078/1990) art. 42 and art. 71 forbid collection that exposes the debtor or disturbs his rest, without
 * naming hours; where a state has no law of its own, the window SP's law sets (and Anatel's self-regulation of
 * telemarketing repeats) is the conservative reading.
 */
export const DEFAULT_RULE: ContactHourRule = {
  hours: 'mon-fri 08:00-20:00; sat 08:00-14:00',
  holidays: true,
  source: 'conservative default (CDC Lei 8.078/1990 arts. 42 and 71; hours as Lei SP 15.426/2014 art. 2)',
};

/** States whose own law sets collection contact hours. Adding a state is one line here and a test. */
export const STATE_RULES: Partial<Record<Uf, ContactHourRule>> = {
  SP: { hours: 'mon-fri 08:00-20:00; sat 08:00-14:00', holidays: true, source: 'Lei SP 15.426/2014 art. 2' },
  RJ: { hours: 'mon-fri 09:00-19:00', holidays: true, source: 'Lei RJ 7.868/2018 (dias úteis, 9h às 19h)' },
};

/** IANA zone per state (tzdata's Brazilian zones). A state split across zones gets its capital's zone. */
export const STATE_TIME_ZONES: Record<Uf, string> = {
  AC: 'America/Rio_Branco',
  AL: 'America/Maceio',
  AM: 'America/Manaus',
  AP: 'America/Belem',
  BA: 'America/Bahia',
  CE: 'America/Fortaleza',
  DF: 'America/Sao_Paulo',
  ES: 'America/Sao_Paulo',
  GO: 'America/Sao_Paulo',
  MA: 'America/Fortaleza',
  MG: 'America/Sao_Paulo',
  MS: 'America/Campo_Grande',
  MT: 'America/Cuiaba',
  PA: 'America/Belem',
  PB: 'America/Fortaleza',
  PE: 'America/Recife',
  PI: 'America/Fortaleza',
  PR: 'America/Sao_Paulo',
  RJ: 'America/Sao_Paulo',
  RN: 'America/Fortaleza',
  RO: 'America/Porto_Velho',
  RR: 'America/Boa_Vista',
  RS: 'America/Sao_Paulo',
  SC: 'America/Sao_Paulo',
  SE: 'America/Maceio',
  SP: 'America/Sao_Paulo',
  TO: 'America/Araguaina',
};

export interface Jurisdiction {
  /** The recipient's state by DDD; null for a number that is not Brazilian (or a DDD not in use). */
  uf: Uf | null;
  timeZone: string;
  rule: ContactHourRule;
  hours: ActiveHours;
  /** Holiday calendars that close the window (`BR`, `BR-SP`…). */
  calendars: string[];
}

const parsed = new Map<string, ActiveHours>();
const hoursOf = (spec: string) => {
  let h = parsed.get(spec);
  if (!h) parsed.set(spec, (h = parseActiveHours(spec)));
  return h;
};

/**
 * The rule that governs contact with `e164`, by its DDD. A number outside Brazil (uf null) is reported with the
 * default rule and `fallbackTimeZone` (the contact's own zone when known), but the gate applies no statutory window
 * to it: no Brazilian state's law reaches it; the tenant's narrowing does (docs/policy.md).
 */
export function jurisdictionOf(e164: string | null, fallbackTimeZone = 'America/Sao_Paulo'): Jurisdiction {
  const uf = e164 ? stateOf(e164) : null;
  const rule = (uf && STATE_RULES[uf]) || DEFAULT_RULE;
  return {
    uf,
    timeZone: uf ? STATE_TIME_ZONES[uf] : fallbackTimeZone,
    rule,
    hours: hoursOf(rule.hours),
    calendars: uf ? [`BR-${uf}`] : ['BR'],
  };
}

/** The windows common to both schedules: a tenant's hours narrow the law's, never widen them. */
export function intersectHours(a: ActiveHours, b: ActiveHours): ActiveHours {
  const out = {} as ActiveHours;
  for (const day of Object.keys(a) as Array<keyof ActiveHours>) {
    const windows: Array<[number, number]> = [];
    for (const [s1, e1] of a[day])
      for (const [s2, e2] of b[day]) {
        const [start, end] = [Math.max(s1, s2), Math.min(e1, e2)];
        if (start < end) windows.push([start, end]);
      }
    out[day] = windows.sort((x, y) => x[0] - y[0]);
  }
  return out;
}
