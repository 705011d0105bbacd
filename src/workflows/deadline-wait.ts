import { condition, sleep } from '@temporalio/workflow';
import { iso, summary } from './user-metadata';

/** Patch id of the lazy deadline wait (a built-in patch of the conversation: BUILT_IN_PATCHES). */
export const LAZY_DEADLINE_PATCH = 'lazy-deadline-timer';

/**
 * The conversation's wait for its next deadline (idle nudge, close, SLA) or for something to handle, without a
 * timer per message (issue 25 A, B). The earlier wait, `condition(until, deadline - now)`, started a timer and
 * cancelled it on every message (each message moves the deadline): two commands and two history events per
 * message, and about 25 of the run's 66 promises per message (a cancellation scope, a race, the timer), each of
 * which the SDK's promise hook gives a source-mapped stack trace: the largest share of the workflow thread's work.
 *
 * Here a timer is started only when none already pending fires at or before the deadline, and it is never
 * cancelled: a message moves the deadline later and leaves the running timer alone. When a timer fires the loop
 * wakes, its deadline checks act only on what is really due (each compares the clock), and it waits again,
 * starting a timer for the rest. So the loop never sleeps past a deadline, and a busy conversation costs one
 * timer per idle period instead of one per message. A timer left pending when the run ends or continues as new is
 * dropped by Temporal. What the Web UI lists as pending timers can therefore include a passed deadline's; the
 * workflow's current details (`rt.showDetails`) always name the real next one.
 */
export class DeadlineWait {
  /** When the started timers that have not fired yet fire. */
  private readonly pending: number[] = [];
  private fired = 0;

  /**
   * True as soon as `until` holds (at once when it already does: no timer, no wait), false when a timer fired
   * first: a deadline may be due, the caller checks which.
   */
  async wait(deadline: number, until: () => boolean, what: string): Promise<boolean> {
    if (until()) return true;
    if (Number.isFinite(deadline) && !this.pending.some((t) => t <= deadline)) {
      this.pending.push(deadline);
      // Not awaited: the loop waits on the condition below. A workflow cancellation rejects the condition too
      // (both are in the root scope), so the timer's own rejection needs no handling beyond being caught.
      void sleep(Math.max(1, deadline - Date.now()), summary(`${what} at ${iso(deadline)}`)).then(
        () => {
          this.pending.splice(this.pending.indexOf(deadline), 1);
          this.fired += 1;
        },
        () => undefined,
      );
    }
    const seen = this.fired;
    await condition(() => until() || this.fired !== seen);
    return until();
  }
}
