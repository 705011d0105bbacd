import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The pacer's slot spacing is the rate's interval stretched by this factor (2 % slower). Slots spaced exactly
 * 1/rate put rate + 1 sends in some 1 s window as soon as one request reaches Twilio a millisecond late, and the
 * pacer's spacing is the only guarantee that holds across worker processes: with the stretch, a 1 s window of
 * request times holds at most ceil(1.05 × rate) sends even when requests arrive up to ~70 ms late relative to
 * their neighbours (~220 ms at 5/s), while the sustained rate stays at 0.98× of the limit.
 */
export const PACE_STRETCH = 1.02;

/** The spacing of a sender's send slots at this rate (see PACE_STRETCH). */
export const slotIntervalMs = (ratePerSecond: number) => (1000 / ratePerSecond) * PACE_STRETCH;

/** The send was stopped at the gate (pause, cancel or shutdown): no request was made to Twilio. */
export class SendAborted extends Error {
  constructor() {
    super('send stopped before its Twilio call (campaign paused, cancelled or worker shutting down)');
    this.name = 'SendAborted';
  }
}

/**
 * Spaces this process's calls to Twilio from one sender by at least the sender's interval. The pacer workflow
 * hands out evenly spaced slots across workers; but timers in a busy event loop fire late and together, and a send
 * prepared late would then go out right behind its neighbour. The gate turns that lateness into a delay instead of
 * a burst, so a one-second window never holds more than the rate's worth of sends from this process.
 * It is also the last point before the request: a send whose activity was cancelled (a pause) stops here, so
 * nothing leaves after the pause reached the activity, even a send whose database work was already done.
 */
export function createSendGate(now: () => number = Date.now) {
  const lastCall = new Map<string, number>();
  return {
    /**
     * Resolves at `slotAt` at the earliest, and at least `intervalMs` after this sender's previous call here.
     * Throws SendAborted (without taking the sender's turn) when `signal` is aborted by the time it would release.
     */
    async wait(sender: string, slotAt: number, intervalMs: number, signal?: AbortSignal): Promise<void> {
      for (;;) {
        if (signal?.aborted) throw new SendAborted();
        // Re-checked after every wake: two timers that fire in the same tick must not both pass.
        const at = Math.max(slotAt, (lastCall.get(sender) ?? -Infinity) + intervalMs);
        const delay = at - now();
        if (delay <= 0) break;
        // No abort listener on the sleep: the wait ends at the slot anyway (a fraction of a second), and what
        // matters is the check at release; one listener per waiting send would pile up on the batch's signal.
        await sleep(delay);
      }
      // Synchronous from the last check to the caller's request: an abort cannot slip in between.
      lastCall.set(sender, now());
      if (lastCall.size > 10_000) lastCall.delete(lastCall.keys().next().value!);
    },
  };
}

export type SendGate = ReturnType<typeof createSendGate>;
