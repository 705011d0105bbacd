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
 * A send that reaches the gate after its slot follows its predecessor at this fraction of the interval instead of
 * a whole one, until it is back on its slot: without it every few milliseconds of lateness (a busy event loop, a
 * slow statement) were rate lost for good, and the sustained rate drifted to 0.91× of the limit at 50/s with the
 * busiest window at 48 (2026-12-07). Only lateness up to CATCH_UP_WITHIN_MS is caught up: after a longer stall the
 * sends queued behind it would go out as a burst, and what a stalled process writes to the network lands at Twilio
 * bunched anyway (tried: catching up any lateness at 0.5–0.75 of the interval put 54–58 sends in a second at 50/s
 * on a loaded machine). So the debt repaid is at most 50 ms of sends, the gate's 1 s window (windowCapFor) still
 * holds, and a stall stays rate lost, never a burst.
 */
const CATCH_UP_GAP = 0.9;
const CATCH_UP_WITHIN_MS = 50;

/**
 * The most sends Twilio may see from one sender in any 1 s window (DESIGN §6): ceil(1.05 × rate). Catching up
 * packs sends closer than the slots, so a 1 s window of this process can reach its cap (windowCapFor) with 0.9-
 * interval gaps; where the bound allows only one send more than that cap (below about 21/s), ~46 ms of lateness
 * between two requests on their way to Twilio then put one send too many in Twilio's second (CI saw 22 at 20/s).
 * So the gate catches up only where the bound leaves at least two sends of headroom; slower senders keep whole
 * intervals, and the ~70 ms of tolerance the stretch gives (PACE_STRETCH).
 */
const MIN_HEADROOM_TO_CATCH_UP = 2;
const twilioBoundFor = (intervalMs: number) => Math.ceil((1.05 * 1000 * PACE_STRETCH) / intervalMs - 1e-9);

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

/**
 * Spaces this process's calls to Twilio from one sender. The pacer workflow hands out evenly spaced slots across
 * workers; but timers in a busy event loop fire late and together, and sends prepared late would then go out in a
 * burst. The gate lets a call through at its slot at the earliest, an interval after the sender's previous call
 * here (CATCH_UP_GAP of one while it is a little late), and only while the last 1 s holds fewer calls than the
 * slots a 1 s window holds (windowCapFor): small lateness is caught up, a stall is never turned into a burst.
 * It is also the last point before the request: a send whose activity was cancelled (a pause) stops here, so
 * nothing leaves after the pause reached the activity, even a send whose database work was already done.
 */
export function createSendGate(
  now: () => number = Date.now,
  /** The wait between checks (a test's virtual clock passes its own). */
  pause: (ms: number) => Promise<unknown> = sleep,
) {
  /** Per sender, the times of its last calls (at most a window's worth). */
  const calls = new Map<string, number[]>();
  return {
    /**
     * Resolves at `slotAt` at the earliest, within the sender's spacing and 1 s window (see above).
     * Throws SendAborted (without taking the sender's turn) when `signal` is aborted by the time it would release.
     */
    async wait(sender: string, slotAt: number, intervalMs: number, signal?: AbortSignal): Promise<void> {
      const cap = windowCapFor(intervalMs);
      const mayCatchUp = cap > 1 && twilioBoundFor(intervalMs) - cap >= MIN_HEADROOM_TO_CATCH_UP;
      for (;;) {
        if (signal?.aborted) throw new SendAborted();
        // Re-checked after every wake: two timers that fire in the same tick must not both pass.
        const recent = calls.get(sender) ?? [];
        const last = recent.at(-1) ?? -Infinity;
        // How late this send would go at a whole interval behind its predecessor.
        const late = Math.max(now(), last + intervalMs) - slotAt;
        const gap = mayCatchUp && late > 0 && late <= CATCH_UP_WITHIN_MS ? intervalMs * CATCH_UP_GAP : intervalMs;
        const windowFreeAt = recent.length >= cap ? recent[recent.length - cap]! + 1000 : -Infinity;
        const at = Math.max(slotAt, last + gap, windowFreeAt);
        const delay = at - now();
        if (delay <= 0) break;
        // No abort listener on the sleep: the wait ends at the slot anyway (a fraction of a second), and what
        // matters is the check at release; one listener per waiting send would pile up on the batch's signal.
        await pause(delay);
      }
      // Synchronous from the last check to the caller's request: an abort cannot slip in between.
      const recent = calls.get(sender) ?? [];
      recent.push(now());
      if (recent.length > cap) recent.splice(0, recent.length - cap);
      calls.delete(sender);
      calls.set(sender, recent);
      if (calls.size > 10_000) calls.delete(calls.keys().next().value!);
    },
  };
}

export type SendGate = ReturnType<typeof createSendGate>;
