import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Spaces this process's calls to Twilio from one sender by at least the sender's interval. The pacer workflow
 * hands out evenly spaced slots across workers; but timers in a busy event loop fire late and together, and a send
 * prepared late would then go out right behind its neighbour. The gate turns that lateness into a delay instead of
 * a burst, so a one-second window never holds more than the rate's worth of sends from this process.
 */
export function createSendGate(now: () => number = Date.now) {
  const lastCall = new Map<string, number>();
  return {
    /** Resolves at `slotAt` at the earliest, and at least `intervalMs` after this sender's previous call here. */
    async wait(sender: string, slotAt: number, intervalMs: number): Promise<void> {
      for (;;) {
        // Re-checked after every wake: two timers that fire in the same tick must not both pass.
        const at = Math.max(slotAt, (lastCall.get(sender) ?? -Infinity) + intervalMs);
        const delay = at - now();
        if (delay <= 0) break;
        await sleep(delay);
      }
      lastCall.set(sender, now());
      if (lastCall.size > 10_000) lastCall.delete(lastCall.keys().next().value!);
    },
  };
}

export type SendGate = ReturnType<typeof createSendGate>;
