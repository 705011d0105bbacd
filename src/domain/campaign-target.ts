import type { TargetState } from '../contract/campaign';

/** What the state machine needs to know about a target (a row of campaign_targets). */
export interface TargetSnapshot {
  state: TargetState;
  attemptCount: number;
  lastAttemptAt: Date | null;
  contactedAt: Date | null;
  succeededAt: Date | null;
  repliedAt: Date | null;
  outcome: string | null;
}

export interface TargetPolicy {
  maxAttempts: number;
  attemptSpacingMs: number;
  retryOnNoReply: boolean;
}

export type TargetEvent =
  | { kind: 'accepted'; status: string }
  /** `notBefore`: a retry must not start earlier (63049: the contact's backoff). */
  | { kind: 'status'; status: string; notBefore?: Date }
  | { kind: 'permanent'; reason: string }
  | { kind: 'reply' }
  | { kind: 'unconfirmed' };

export type TargetPatch = Partial<
  Pick<TargetSnapshot, 'state' | 'contactedAt' | 'succeededAt' | 'repliedAt' | 'outcome'>
> & {
  nextAttemptAt?: Date;
  completedAt?: Date;
  lastStatus?: string;
};

/** Statuses that count as delivered for a target (its `accepted` step completes it with one of these). */
export const DELIVERED_STATUSES: ReadonlySet<string> = new Set(['delivered', 'read', 'simulated']);
const DELIVERED = DELIVERED_STATUSES;
/** Statuses of a failed attempt: retried after the spacing while attempts are left. */
export const UNDELIVERED_STATUSES: ReadonlySet<string> = new Set(['failed', 'undelivered']);
const UNDELIVERED = UNDELIVERED_STATUSES;

/**
 * The per-target flow after a send (C2, I11): pending → scheduled → sending → completed / failed / opted_out.
 * Pure, so the rules are tested without a database: a failed or undelivered attempt is retried after the spacing
 * until max attempts; with `retryOnNoReply` a delivered message without a reply is followed up the same way.
 * Returns null when the event changes nothing (a late or duplicate callback for an older attempt).
 */
export function nextTargetState(
  t: TargetSnapshot,
  policy: TargetPolicy,
  event: TargetEvent,
  now: Date,
): TargetPatch | null {
  const retryAt = new Date((t.lastAttemptAt ?? now).getTime() + policy.attemptSpacingMs);
  const attemptsLeft = t.attemptCount < policy.maxAttempts;
  const awaitingReply = t.state === 'scheduled' && t.outcome === 'awaiting_reply';
  switch (event.kind) {
    case 'accepted': {
      if (t.state !== 'sending') return null;
      const patch: TargetPatch = { lastStatus: event.status, contactedAt: t.contactedAt ?? now };
      return DELIVERED.has(event.status) ? { ...patch, ...delivered(t, policy, event.status, now, retryAt) } : patch;
    }
    case 'status': {
      if (DELIVERED.has(event.status)) {
        if (t.state !== 'sending') return t.state === 'completed' ? { lastStatus: event.status } : null;
        return { lastStatus: event.status, ...delivered(t, policy, event.status, now, retryAt) };
      }
      if (UNDELIVERED.has(event.status)) {
        if (t.state !== 'sending') return null;
        return attemptsLeft
          ? {
              lastStatus: event.status,
              state: 'scheduled',
              nextAttemptAt: new Date(Math.max(now.getTime(), retryAt.getTime(), event.notBefore?.getTime() ?? 0)),
              outcome: `retry_after_${event.status}`,
            }
          : { lastStatus: event.status, state: 'failed', outcome: event.status, completedAt: now };
      }
      return t.state === 'sending' ? { lastStatus: event.status } : null;
    }
    case 'permanent':
      if (t.state !== 'sending') return null;
      return event.reason === 'opted_out'
        ? { state: 'opted_out', outcome: 'opted_out', completedAt: now }
        : {
            state: 'failed',
            outcome: event.reason === 'outside_window' ? 'template_required' : event.reason,
            completedAt: now,
          };
    case 'reply': {
      const patch: TargetPatch = { repliedAt: t.repliedAt ?? now };
      if (t.state === 'sending' || awaitingReply)
        return {
          ...patch,
          state: 'completed',
          outcome: 'replied',
          succeededAt: t.succeededAt ?? now,
          completedAt: now,
        };
      return t.repliedAt ? null : patch;
    }
    case 'unconfirmed':
      return t.state === 'sending' ? { state: 'completed', outcome: 'unconfirmed', completedAt: now } : null;
  }
}

function delivered(t: TargetSnapshot, policy: TargetPolicy, status: string, now: Date, retryAt: Date): TargetPatch {
  const base: TargetPatch = { succeededAt: t.succeededAt ?? now };
  if (policy.retryOnNoReply && !t.repliedAt && t.attemptCount < policy.maxAttempts) {
    return { ...base, state: 'scheduled', nextAttemptAt: retryAt, outcome: 'awaiting_reply' };
  }
  return {
    ...base,
    state: 'completed',
    outcome: policy.retryOnNoReply && !t.repliedAt ? 'no_reply' : status,
    completedAt: now,
  };
}

/** Counter increments implied by a transition (applied in the same transaction as the target update). */
export function counterDeltas(
  before: TargetSnapshot,
  after: TargetSnapshot,
): Partial<Record<'contacted' | 'successful' | 'failed' | 'optedOut' | 'skipped', number>> {
  const d: Partial<Record<'contacted' | 'successful' | 'failed' | 'optedOut' | 'skipped', number>> = {};
  if (!before.contactedAt && after.contactedAt) d.contacted = 1;
  if (!before.succeededAt && after.succeededAt) d.successful = 1;
  for (const [state, key] of [
    ['failed', 'failed'],
    ['opted_out', 'optedOut'],
    ['skipped', 'skipped'],
  ] as const) {
    if (before.state !== state && after.state === state) d[key] = 1;
    if (before.state === state && after.state !== state) d[key] = -1;
  }
  return d;
}
