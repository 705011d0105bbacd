/**
 * Issue 18 E: the bounds a promise to pay must keep before it is stored, whatever the model asked for. The refusal
 * is phrased for the model (it reads it as the tool's answer) and holds no personal data.
 */
export interface PromisePolicy {
  /** The target's outstanding debt in cents; null when the contact has no campaign target with a debt. */
  debtCents: number | null;
  /** How far ahead the due date may fall. */
  maxDaysAhead: number;
  now: Date;
}

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant a due date stands for, or null when it is no real date (2026-02-30, 9999-99-99, garbage). */
export function dueInstant(dueDate: string): Date | null {
  const date = DATE.exec(dueDate);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const at = new Date(Date.UTC(y, m - 1, d, 23, 59, 59));
    // Date.UTC rolls 2026-02-30 over into March: a real date reads back the same.
    return at.getUTCFullYear() === y && at.getUTCMonth() === m - 1 && at.getUTCDate() === d ? at : null;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(dueDate)) return null;
  const at = new Date(dueDate);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** Null when the promise keeps the policy, else why not (for the model). */
export function promiseRefusal(
  promise: { amountCents: number; dueDate: string },
  policy: PromisePolicy,
): string | null {
  if (!Number.isSafeInteger(promise.amountCents) || promise.amountCents <= 0)
    return 'the amount must be greater than zero';
  if (policy.debtCents !== null && promise.amountCents > policy.debtCents)
    return `the amount is more than the open debt (${(policy.debtCents / 100).toFixed(2)})`;
  const due = dueInstant(promise.dueDate);
  if (!due) return 'the due date is not a real date (use YYYY-MM-DD)';
  // A day of slack each way: a date-only promise is the end of that day in the contact's zone, up to UTC±14.
  if (due.getTime() < policy.now.getTime() - DAY_MS) return 'the due date is in the past';
  if (due.getTime() > policy.now.getTime() + (policy.maxDaysAhead + 1) * DAY_MS)
    return `the due date is more than ${policy.maxDaysAhead} days ahead`;
  return null;
}
