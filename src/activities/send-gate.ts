import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The pacer's slot spacing is the rate's interval stretched by this factor (2 % slower). Slots spaced exactly
 * 1/rate put rate + 1 sends in some 1 s window as soon as one request reaches Twilio a millisecond late, and the
 * pacer's spacing is the only guarantee that holds across worker processes: with the stretch, a 1 s window of
 * request times holds at most ceil(1.05 × rate) sends even when requests arrive up to ~70 ms late relative to
 * their neighbours (~220 ms at 5/s), while the sustained rate stays at 0.98× of the limit.
 */
export const PACE_STRETCH = 1.02;

/**
 * A send that reaches the gate after its target (its slot, or an interval after the previous send's target)
 * follows its predecessor at this fraction of the interval instead of a whole one, until it is back on its target:
 * without it every few milliseconds of lateness (a busy event loop, a slow statement, a timer firing late) were rate
 * lost for good, and the sustained rate drifted to 0.91× of the limit at 50/s and 0.83× at 100/s (2026-12-07: each
 * release's ~2 ms of timer lateness added to the next interval). Only lateness up to CATCH_UP_WITHIN_MS is caught
 * up: after a longer stall the sends queued behind it would go out as a burst, and what a stalled process writes to
 * the network lands at Twilio bunched anyway (tried: catching up any lateness at 0.5–0.75 of the interval put 54–58
 * sends in a second at 50/s on a loaded machine). So the debt repaid is at most 50 ms of sends, the gate's 1 s
 * window (windowCapFor) and its landing window (LANDING_JITTER_MS) still hold, and a stall stays rate lost, never a
 * burst. (0.9 of the interval could not repay 2 ms of lateness a release at 100/s: 0.89× of the rate.)
 */
const CATCH_UP_GAP = 0.5;
const CATCH_UP_WITHIN_MS = 50;

/**
 * The most sends Twilio may see from one sender in any 1 s window (DESIGN §6): ceil(1.05 × rate). Catching up
 * packs sends closer than the slots, so a 1 s window of this process can reach its cap (windowCapFor) with
 * caught-up gaps; where the bound allows only one send more than that cap (below about 21/s), ~46 ms of lateness
 * between two requests on their way to Twilio then put one send too many in Twilio's second (CI saw 22 at 20/s).
 * So the gate catches up only where the bound leaves at least two sends of headroom; slower senders keep whole
 * intervals, and the ~70 ms of tolerance the stretch gives (PACE_STRETCH).
 */
const MIN_HEADROOM_TO_CATCH_UP = 2;
const twilioBoundFor = (intervalMs: number) => Math.ceil((1.05 * 1000 * PACE_STRETCH) / intervalMs - 1e-9);

/**
 * Requests leave this process up to this much later than their release, relative to each other (a busy event loop,
 * the connection pool, the network): so the release times of any 1 s + LANDING_JITTER_MS hold at most Twilio's
 * bound (twilioBoundFor), and a second at Twilio holds no more even when the first of them land that late. Sends on
 * their slots never meet this cap (1.06 s of slots hold at most 1.04× of the rate); caught-up sends do.
 */
const LANDING_JITTER_MS = 60;

/** The spacing of a sender's send slots at this rate (see PACE_STRETCH). */
export const slotIntervalMs = (ratePerSecond: number) => (1000 / ratePerSecond) * PACE_STRETCH;

/** Sends from one sender in any sliding 1 s window of this process: the number of slots such a window holds. */
export const windowCapFor = (intervalMs: number) => Math.max(1, Math.ceil(1000 / intervalMs - 1e-9));

/** The send was stopped at the gate (pause, cancel or shutdown): no request was made to Twilio. */
export class SendAborted extends Error {
  constructor() {
    super('send stopped before its Twilio call (campaign paused, cancelled or worker shutting down)');
    this.name = 'SendAborted';
  }
}

/** A send waiting at the gate for its turn. */
interface Waiter {
  slotAt: number;
  intervalMs: number;
  signal: AbortSignal | undefined;
  resolve: (release: { at: number; previousTarget: number }) => void;
  reject: (error: Error) => void;
}

/** One sender's state here: its last calls (at most a window's worth) and its waiting sends in slot order. */
interface Lane {
  calls: number[];
  /** The last released send's target time: the cadence the next send keeps (see releaseAt). */
  target: number;
  queue: Waiter[];
  pumping: boolean;
  /** Ends the head's wait early: a send with an earlier slot joined the front of the queue. */
  wake: (() => void) | null;
}

/**
 * Spaces this process's calls to Twilio from one sender. The pacer workflow hands out evenly spaced slots across
 * workers; but timers in a busy event loop fire late and together, and sends prepared late would then go out in a
 * burst. The gate lets a call through at its slot at the earliest, an interval after the sender's previous call
 * here (CATCH_UP_GAP of one while it is a little late), and only while the last 1 s holds fewer calls than the
 * slots a 1 s window holds (windowCapFor): small lateness is caught up, a stall is never turned into a burst.
 * It is also the last point before the request: a send whose activity was cancelled (a pause) stops here, so
 * nothing leaves after the pause reached the activity, even a send whose database work was already done.
 *
 * Each sender's waiting sends form one queue in slot order, and only its head waits on a timer. (Each send once
 * slept on a timer of its own and re-checked on waking: when sends ran late they all woke at the same instant, one
 * went, and the rest slept again, some 200 timers per release at 200/s, which kept a campaign worker's event loop
 * busy enough to fall further behind: bench, 2026-12-07, 5.5 % of the main thread in the wait alone.)
 */
export function createSendGate(
  now: () => number = Date.now,
  /** The wait for the head's turn (a test's virtual clock passes its own). */
  pause: (ms: number) => Promise<unknown> = sleep,
) {
  const lanes = new Map<string, Lane>();

  /**
   * When `w` may go, given the sender's last calls (see the gate's rules above): its target is its slot or an
   * interval after the previous send's target, whichever is later, so a timer that fires a few milliseconds late
   * (a busy event loop) does not push every later send back. Only the target, not the last call, carries the
   * cadence; the last call keeps its catch-up floor (CATCH_UP_GAP) and the two windows their caps.
   */
  function releaseAt(lane: Lane, w: Waiter): { at: number; target: number } {
    const { calls } = lane;
    const cap = windowCapFor(w.intervalMs);
    const bound = twilioBoundFor(w.intervalMs);
    const mayCatchUp = cap > 1 && bound - cap >= MIN_HEADROOM_TO_CATCH_UP;
    const last = calls.at(-1) ?? -Infinity;
    const target = Math.max(w.slotAt, lane.target + w.intervalMs);
    // How late this send would go at a whole interval behind its predecessor.
    const late = Math.max(now(), last + w.intervalMs) - target;
    const gap = mayCatchUp && late > 0 && late <= CATCH_UP_WITHIN_MS ? w.intervalMs * CATCH_UP_GAP : w.intervalMs;
    const windowFreeAt = calls.length >= cap ? calls[calls.length - cap]! + 1000 : -Infinity;
    const landingFreeAt = calls.length >= bound ? calls[calls.length - bound]! + 1000 + LANDING_JITTER_MS : -Infinity;
    return { at: Math.max(target, last + gap, windowFreeAt, landingFreeAt), target };
  }

  /** Releases the lane's sends one at a time, each when its turn comes; ends when the queue is empty. */
  async function pump(lane: Lane) {
    lane.pumping = true;
    try {
      while (lane.queue.length > 0) {
        const head = lane.queue[0]!;
        if (head.signal?.aborted) {
          lane.queue.shift();
          head.reject(new SendAborted());
          continue;
        }
        const { at: releaseTime, target } = releaseAt(lane, head);
        const delay = releaseTime - now();
        if (delay > 0) {
          // No abort listener on the wait: it ends at the slot anyway (a fraction of a second), and what matters is
          // the check at release; one listener per waiting send would pile up on the batch's signal.
          await new Promise<void>((resolve) => {
            lane.wake = resolve;
            void pause(delay).then(() => resolve());
          });
          lane.wake = null;
          continue;
        }
        lane.queue.shift();
        const at = now();
        const previousTarget = lane.target;
        // A send more than CATCH_UP_WITHIN_MS behind its target (a stall) starts the cadence afresh from now: the
        // sends queued behind it keep whole intervals, never a burst.
        lane.target = at - target > CATCH_UP_WITHIN_MS ? at : target;
        lane.calls.push(at);
        const keep = twilioBoundFor(head.intervalMs);
        if (lane.calls.length > keep) lane.calls.splice(0, lane.calls.length - keep);
        head.resolve({ at, previousTarget });
      }
    } finally {
      lane.pumping = false;
    }
  }

  function laneOf(sender: string): Lane {
    let lane = lanes.get(sender);
    if (lane) {
      lanes.delete(sender);
    } else {
      lane = { calls: [], target: -Infinity, queue: [], pumping: false, wake: null };
      // The least recently used sender is forgotten past 10,000, unless sends are waiting on it.
      const oldest = lanes.size >= 10_000 ? lanes.entries().next().value : undefined;
      if (oldest && oldest[1].queue.length === 0 && !oldest[1].pumping) lanes.delete(oldest[0]);
    }
    lanes.set(sender, lane);
    return lane;
  }

  return {
    /**
     * Resolves at `slotAt` at the earliest, within the sender's spacing and 1 s window (see above).
     * Throws SendAborted (without taking the sender's turn) when `signal` is aborted by the time it would release.
     */
    async wait(sender: string, slotAt: number, intervalMs: number, signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) throw new SendAborted();
      const lane = laneOf(sender);
      const release = await new Promise<{ at: number; previousTarget: number }>((resolve, reject) => {
        const waiter: Waiter = { slotAt, intervalMs, signal, resolve, reject };
        // After the sends with the same or an earlier slot (slots arrive nearly in order: mostly appended).
        let i = lane.queue.length;
        while (i > 0 && lane.queue[i - 1]!.slotAt > slotAt) i -= 1;
        lane.queue.splice(i, 0, waiter);
        if (i === 0) lane.wake?.();
        if (!lane.pumping) void pump(lane);
      });
      // The caller resumes a microtask after the release: an abort that slipped in between gives the turn back, so
      // nothing leaves after the abort.
      if (signal?.aborted) {
        if (lane.calls.at(-1) === release.at) {
          lane.calls.pop();
          lane.target = release.previousTarget;
        } else {
          // A later send has gone since: its target stands; this call leaves the window.
          const at = lane.calls.lastIndexOf(release.at);
          if (at >= 0) lane.calls.splice(at, 1);
        }
        throw new SendAborted();
      }
    },
  };
}

export type SendGate = ReturnType<typeof createSendGate>;
