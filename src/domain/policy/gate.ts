/**
 * The outbound policy gate's decision, as a pure function of what the send path loaded (src/services/outbound/policy-gate.ts):
 * send, hold until T, or refuse, with every check that decided it. Refusals are checked before holds (a message
 * that may never go out is not worth waiting for); holds combine to the first instant every hold has passed.
 */
import { holidayOn } from '../holidays';
import { isOpenOn, localDate, nextOpeningOn, parseActiveHours, type ActiveHours } from '../active-hours';
import { intersectHours, jurisdictionOf, RULES_VERSION, type PolicyPurpose } from './rules';

export type Decision = 'send' | 'hold' | 'refuse';

export interface PolicyCheck {
  name: string;
  input: Record<string, unknown>;
  /** `pass`, `hold`, `refuse` or `skip` (the check does not apply to this send). */
  result: 'pass' | 'hold' | 'refuse' | 'skip';
  detail?: string;
}

export interface PolicyDecision {
  decision: Decision;
  until?: Date;
  /** The first refusing or holding check's detail: what an agent is told. */
  reason?: string;
  checks: PolicyCheck[];
  rulesVersion: string;
}

export interface DncEntry {
  list: string;
  scope: DncScope;
  registeredAt: Date | null;
}

/**
 * `procon-sp`: Lei SP 13.226/2008 as amended by Lei SP 17.334/2021 — collection and marketing by SMS and messaging
 * apps to registered numbers with DDD 11–19, from the 30th day after registration. `nao-me-perturbe`: Anatel's
 * self-regulation list — marketing (telecom offers). `tenant`: the tenant's own list — everything business-initiated.
 */
export type DncScope = 'procon-sp' | 'nao-me-perturbe' | 'tenant';

export const PROCON_SP_GRACE_DAYS = 30;

export interface GateInput {
  purpose: PolicyPurpose;
  /** A `service` send inside a conversation the customer opened: never held (an answer is what the customer asked). */
  customerOpened: boolean;
  to: { e164: string | null; channel: string };
  contactTimeZone: string | null;
  optedOut: boolean;
  /** On the erasure suppression list (erased while opted out). */
  suppressed: boolean;
  dnc: DncEntry[];
  /** The tenant's narrowing per purpose (null: the law's window as is). */
  tenantHours: Partial<Record<PolicyPurpose, ActiveHours | null>>;
  /** A campaign's own active hours, a further narrowing in the target's zone. */
  campaignHours?: { hours: ActiveHours; timeZone: string } | null;
  /** Business-initiated collection/marketing sends already made to this contact in the local day and ISO week of `at`. */
  frequency: { today: number; thisWeek: number; maxPerDay: number; maxPerWeek: number };
  /** WhatsApp's 24 h window, recorded (the sender applies it: free text inside, a template outside). */
  whatsapp?: { lastInboundAt: Date | null; windowMs: number } | null;
}

const ALWAYS = parseActiveHours('always');
const DAY_MS = 86_400_000;

/** Defaults per tenant: the sixth business-initiated message of a local day is held to the next day. */
export const DEFAULT_MAX_PER_DAY = 5;
export const DEFAULT_MAX_PER_WEEK = 15;

const ruled = (p: PolicyPurpose) => p === 'collection' || p === 'marketing';

/** The first instant of the local date after `isoDate` in `timeZone`. */
function startOfDateAfter(timeZone: string, at: Date, lastClosed: string): Date {
  return nextOpeningOn(ALWAYS, timeZone, at, (d) => d <= lastClosed)!;
}

/**
 * Day starts already found, by zone and date: the search below walks the zone's wall clock (Intl) and cost ~9 % of
 * the worker's busy CPU in the campaign bench (issue 25 C: two per business-initiated send, the cap's day and week).
 * The answer depends on the zone and the date only; bounded, cleared when full.
 */
const dayStarts = new Map<string, number>();
const DAY_STARTS_MAX = 4_096;

/** The first instant of local date `isoDate` (`at` falls on or after it, less than 8 days later). */
export function startOfLocalDate(timeZone: string, at: Date, isoDate: string): Date {
  const key = `${timeZone} ${isoDate}`;
  const known = dayStarts.get(key);
  if (known !== undefined) return new Date(known);
  const start = nextOpeningOn(ALWAYS, timeZone, new Date(at.getTime() - 9 * DAY_MS), (d) => d < isoDate)!;
  // Kept only when it is that date's start indeed (a search that missed the date is not remembered).
  if (localDate(timeZone, start) !== isoDate) return start;
  if (dayStarts.size >= DAY_STARTS_MAX) dayStarts.clear();
  dayStarts.set(key, start.getTime());
  return start;
}

const addDays = (isoDate: string, days: number) =>
  new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
/** Monday of the ISO week of a local date. */
export const mondayOf = (isoDate: string) =>
  addDays(isoDate, -((new Date(`${isoDate}T00:00:00Z`).getUTCDay() + 6) % 7));

/** The contact-hours window that applies to this send: the law's, narrowed by the tenant; null when none applies. */
export function contactWindow(input: Pick<GateInput, 'purpose' | 'to' | 'contactTimeZone' | 'tenantHours'>) {
  const j = jurisdictionOf(input.to.e164, input.contactTimeZone ?? undefined);
  const narrowing = input.tenantHours[input.purpose] ?? null;
  // A number outside Brazil has no Brazilian state, and no statute here sets its hours: only the tenant's narrowing.
  if (ruled(input.purpose) && j.uf) {
    return { ...j, hours: narrowing ? intersectHours(j.hours, narrowing) : j.hours, narrowed: narrowing !== null };
  }
  // utility, business-initiated service, foreign numbers: no statute sets their hours; only the tenant's narrowing.
  if (!narrowing) return null;
  return { ...j, hours: narrowing, calendars: [] as string[], narrowed: true };
}

export function decide(input: GateInput, at: Date): PolicyDecision {
  const checks: PolicyCheck[] = [];
  const businessInitiated = !(input.purpose === 'service' && input.customerOpened);
  const channel = input.to.channel;

  // 1. Opt-out (I12) and the erasure suppression list: every business-initiated message.
  checks.push({
    name: 'opt_out',
    input: { optedOut: input.optedOut, suppressed: input.suppressed, businessInitiated },
    result: !businessInitiated ? 'skip' : input.optedOut || input.suppressed ? 'refuse' : 'pass',
    ...(businessInitiated && (input.optedOut || input.suppressed)
      ? { detail: input.suppressed ? 'the contact is on the erasure suppression list' : 'the contact opted out (STOP)' }
      : {}),
  });

  // 2. Do-not-contact lists, each per its scope.
  for (const entry of input.dnc) checks.push(dncCheck(entry, input, businessInitiated, channel, at));

  // 3. Contact hours.
  let hoursUntil: Date | null = null;
  const window = businessInitiated ? contactWindow(input) : null;
  const closed = (calendars: string[]) => (d: string) => calendars.length > 0 && holidayOn(d, calendars) !== null;
  if (!window) {
    checks.push({ name: 'contact_hours', input: { purpose: input.purpose, businessInitiated }, result: 'skip' });
  } else {
    const open = isOpenOn(window.hours, window.timeZone, at, closed(window.calendars));
    if (!open) hoursUntil = nextOpeningOn(window.hours, window.timeZone, at, closed(window.calendars));
    const holiday = window.calendars.length ? holidayOn(localDate(window.timeZone, at), window.calendars) : null;
    checks.push({
      name: 'contact_hours',
      input: {
        purpose: input.purpose,
        state: window.uf,
        timeZone: window.timeZone,
        localDate: localDate(window.timeZone, at),
        holiday,
        rule: window.rule.hours,
        source: window.rule.source,
        narrowedByTenant: window.narrowed,
      },
      result: open ? 'pass' : hoursUntil ? 'hold' : 'refuse',
      ...(open
        ? {}
        : {
            detail: hoursUntil
              ? `outside contact hours (${window.uf ?? 'default'}: ${window.rule.source}${holiday ? `; holiday ${holiday}` : ''}) until ${hoursUntil.toISOString()}`
              : 'no lawful contact window (the tenant narrowed it to nothing)',
          }),
    });
  }
  if (input.campaignHours) {
    const { hours, timeZone } = input.campaignHours;
    const open = isOpenOn(hours, timeZone, at);
    const next = open ? null : nextOpeningOn(hours, timeZone, at);
    checks.push({
      name: 'campaign_hours',
      input: { timeZone },
      result: open ? 'pass' : next ? 'hold' : 'refuse',
      ...(open
        ? {}
        : { detail: next ? `outside the campaign's hours until ${next.toISOString()}` : 'campaign hours never open' }),
    });
    if (next && (!hoursUntil || next > hoursUntil)) hoursUntil = next;
  }

  // 4. Frequency cap: business-initiated collection and marketing, per local day and ISO week of the recipient.
  let capUntil: Date | null = null;
  if (businessInitiated && ruled(input.purpose)) {
    const zone = jurisdictionOf(input.to.e164, input.contactTimeZone ?? undefined).timeZone;
    const today = localDate(zone, at);
    const f = input.frequency;
    if (f.thisWeek >= f.maxPerWeek) capUntil = startOfDateAfter(zone, at, addDays(mondayOf(today), 6));
    else if (f.today >= f.maxPerDay) capUntil = startOfDateAfter(zone, at, today);
    checks.push({
      name: 'frequency_cap',
      input: { ...f, localDate: today },
      result: capUntil ? 'hold' : 'pass',
      ...(capUntil
        ? {
            detail: `frequency cap reached (${f.today}/${f.maxPerDay} today, ${f.thisWeek}/${f.maxPerWeek} this week) until ${capUntil.toISOString()}`,
          }
        : {}),
    });
  } else checks.push({ name: 'frequency_cap', input: { purpose: input.purpose, businessInitiated }, result: 'skip' });

  // 5. WhatsApp's window: recorded here, applied by the sender (free text inside, the purpose's template outside).
  if (channel === 'whatsapp' && input.whatsapp) {
    const { lastInboundAt, windowMs } = input.whatsapp;
    const open = lastInboundAt !== null && at.getTime() - lastInboundAt.getTime() < windowMs;
    checks.push({
      name: 'whatsapp_window',
      input: { lastInboundAt: lastInboundAt?.toISOString() ?? null, windowHours: windowMs / 3_600_000 },
      result: 'pass',
      detail: open ? 'inside the 24 h window: free text' : 'outside the 24 h window: the purpose’s Content template',
    });
  }

  const refusal = checks.find((c) => c.result === 'refuse');
  if (refusal)
    return { decision: 'refuse', reason: refusal.detail ?? refusal.name, checks, rulesVersion: RULES_VERSION };
  if (hoursUntil || capUntil) {
    let until = [hoursUntil, capUntil].filter((d): d is Date => d !== null).reduce((a, b) => (a > b ? a : b));
    // The cap's new day may itself fall outside the hours: hold to the first lawful instant after it.
    if (window && capUntil && until.getTime() === capUntil.getTime())
      until = nextOpeningOn(window.hours, window.timeZone, until, closed(window.calendars)) ?? until;
    const first = checks.find((c) => c.result === 'hold')!;
    return { decision: 'hold', until, reason: first.detail ?? first.name, checks, rulesVersion: RULES_VERSION };
  }
  return { decision: 'send', checks, rulesVersion: RULES_VERSION };
}

function dncCheck(
  entry: DncEntry,
  input: GateInput,
  businessInitiated: boolean,
  channel: string,
  at: Date,
): PolicyCheck {
  const base = {
    name: `dnc:${entry.list}`,
    input: { scope: entry.scope, registeredAt: entry.registeredAt?.toISOString() ?? null },
  };
  const refuse = (detail: string): PolicyCheck => ({ ...base, result: 'refuse', detail });
  if (!businessInitiated) return { ...base, result: 'skip' };
  switch (entry.scope) {
    case 'tenant':
      return refuse(`the number is on the tenant's do-not-contact list "${entry.list}"`);
    case 'nao-me-perturbe':
      return input.purpose === 'marketing'
        ? refuse(`the number is on Anatel's Não Me Perturbe list "${entry.list}" (marketing)`)
        : { ...base, result: 'skip' };
    case 'procon-sp': {
      const ddd = input.to.e164 ? Number(input.to.e164.slice(3, 5)) : NaN;
      const inScope =
        (input.purpose === 'collection' || input.purpose === 'marketing') &&
        (channel === 'sms' || channel === 'whatsapp') &&
        input.to.e164?.startsWith('+55') === true &&
        ddd >= 11 &&
        ddd <= 19;
      const effective = entry.registeredAt
        ? new Date(entry.registeredAt.getTime() + PROCON_SP_GRACE_DAYS * DAY_MS)
        : new Date(0);
      if (!inScope || at < effective)
        return {
          ...base,
          result: 'pass',
          detail: inScope ? `in effect from ${effective.toISOString()}` : 'out of scope',
        };
      return refuse(
        `the number is on Procon-SP's do-not-contact list (Lei SP 13.226/2008, Lei SP 17.334/2021) since ${effective.toISOString().slice(0, 10)}`,
      );
    }
  }
}
