/**
 * Issue 21 F: why a campaign sleeps until its next wake-up, in words for the Temporal Web UI (the timer's summary
 * and the workflow's current details). Derived from the earliest open target: a hold by the outbound policy (its
 * send_decisions row), the campaign's active hours, retry spacing, a contact's backoff, a batch's claim lease, or a
 * send whose delivery status is overdue. Ids, times and rule names only: the Web UI is read by every operator.
 */

/** ISO UTC to the second: `2026-12-07T11:00:00Z`. */
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A gate's reason ends with its own ` until <ISO>`; the summary says when already. */
export const reasonOnly = (reason: string) => reason.replace(/ until \d{4}-\d\d-\d\dT[\d:.]+Z$/, '');

const encoder = new TextEncoder();
/** At most `maxBytes` of UTF-8, cut on a code point and marked with `…` (user metadata has a byte limit). */
export function clampUtf8(text: string, maxBytes: number): string {
  if (encoder.encode(text).length <= maxBytes) return text;
  let cut = '';
  for (const ch of text) {
    if (encoder.encode(`${cut}${ch}…`).length > maxBytes) break;
    cut += ch;
  }
  return `${cut}…`;
}

export interface EarliestTarget {
  outcome: string | null;
  /** ms */
  nextAttemptAt: number;
  /** The target's current attempt as the outbound policy last decided it (null: never decided, or sent). */
  hold: { until: number; reason: string | null } | null;
}

export function wakeReason(earliest: EarliestTarget | null, overdueSendAt: number | null): string | null {
  if (overdueSendAt !== null && (earliest === null || overdueSendAt <= earliest.nextAttemptAt))
    return `delivery timeout: an unconfirmed send is closed at ${iso(overdueSendAt)}`;
  if (!earliest) return null;
  const at = iso(earliest.nextAttemptAt);
  // The gate's instant is the target's next attempt (src/activities/campaign.ts defers it there); a later move by
  // the campaign's own hours leaves the old hold behind, so only a matching instant counts.
  if (earliest.hold && Math.abs(earliest.hold.until - earliest.nextAttemptAt) < 1000)
    return `held until ${at} — ${reasonOnly(earliest.hold.reason ?? 'outbound policy')}`;
  const outcome = earliest.outcome ?? '';
  if (outcome === 'waiting_active_hours') return `campaign active hours open at ${at}`;
  if (outcome === 'contact_backoff') return `contact backoff (WhatsApp 63049) ends at ${at}`;
  if (outcome === 'queued') return `a send batch's claim lease ends at ${at}`;
  if (outcome === 'awaiting_reply') return `retry spacing: no reply yet, next attempt at ${at}`;
  if (outcome.startsWith('retry_after_')) return `retry spacing after ${outcome.slice(12)}: next attempt at ${at}`;
  return `next target due at ${at}`;
}
