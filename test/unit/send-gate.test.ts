import { describe, expect, it } from 'vitest';
import { createSendGate, SendAborted, slotIntervalMs } from '../../src/activities/send-gate';

describe('send gate', () => {
  it('lets calls from one sender through at least half an interval apart, even when all are due at once', async () => {
    const gate = createSendGate();
    const passed: number[] = [];
    const start = Date.now();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        await gate.wait('whatsapp:+15550001', start, 10);
        passed.push(Date.now());
      }),
    );
    passed.sort((a, b) => a - b);
    const gaps = passed.slice(1).map((t, i) => t - passed[i]!);
    // Measured after the await resumes, so a millisecond of the caller's own delay may fall inside a gap.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(4);
  });

  it('late calls catch up on the schedule, never more than a 1 s window of slots in any 1 s', async () => {
    // 5/s: slots 204 ms apart, the first 8 already a second and a half late when they reach the gate.
    const interval = slotIntervalMs(5);
    const start = Date.now();
    const slots = Array.from({ length: 12 }, (_, i) => start - 1500 + Math.round(i * interval));
    const gate = createSendGate();
    const passed: number[] = [];
    await Promise.all(
      slots.map(async (slot) => {
        await gate.wait('s', slot, interval);
        passed.push(Date.now());
      }),
    );
    passed.sort((a, b) => a - b);
    for (let i = 0; i < passed.length; i++) {
      expect(passed[i]! - start).toBeGreaterThanOrEqual(slots[i]! - start);
      // ceil(1000 / 204) = 5 calls in any window [t, t + 1000 ms).
      expect(passed.filter((t) => t >= passed[i]! && t < passed[i]! + 1000).length).toBeLessThanOrEqual(5);
    }
    // A gate that kept a full interval between calls would end 12 × 204 ms after the start; catching up ends
    // at the window's pace: calls 6–10 a second after calls 1–5, the last two on the next second.
    expect(passed.at(-1)! - start).toBeLessThan(11 * interval);
  });

  it('senders at one message a second or slower keep the full interval', async () => {
    const gate = createSendGate();
    const start = Date.now();
    await gate.wait('slow', start - 5000, 1020);
    await gate.wait('slow', start - 5000, 1020);
    expect(Date.now() - start).toBeGreaterThanOrEqual(1019);
  });

  it('never lets a call through before its slot; other senders are not held back', async () => {
    const gate = createSendGate();
    const slot = Date.now() + 30;
    await gate.wait('a', slot, 1000);
    expect(Date.now()).toBeGreaterThanOrEqual(slot);
    const other = Date.now();
    await gate.wait('b', other, 1000);
    expect(Date.now() - other).toBeLessThan(1000);
  });

  it("a wait aborted before its release throws SendAborted and does not take the sender's turn", async () => {
    const gate = createSendGate();
    const controller = new AbortController();
    const waiting = gate.wait('a', Date.now() + 100, 1000, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(waiting).rejects.toBeInstanceOf(SendAborted);
    await expect(gate.wait('a', 0, 1000, controller.signal)).rejects.toBeInstanceOf(SendAborted);
    const free = Date.now();
    await gate.wait('a', free, 1000);
    expect(Date.now() - free).toBeLessThan(500);
  });

  it('slot spacing keeps every 1 s window at ceil(1.05 × rate) even when sends land up to 60 ms late', () => {
    // Worst case for a window: every slot in [s, s + 60 ms] lands at s + 60 ms, all later ones on time.
    const lateness = 60;
    for (const rate of [0.5, 1, 2.5, 5, 10, 19, 20, 21, 50, 100, 500, 1000]) {
      const interval = slotIntervalMs(rate);
      const slots = Array.from({ length: Math.ceil(rate * 5) + 2 }, (_, i) => Math.round(i * interval));
      let worst = 0;
      for (const s of slots) worst = Math.max(worst, slots.filter((t) => t >= s && t < s + lateness + 1000).length);
      expect(worst, `rate ${rate}/s`).toBeLessThanOrEqual(Math.ceil(1.05 * rate));
      // The stretch costs at most 2 % of the sustained rate.
      expect(1000 / interval).toBeGreaterThanOrEqual(0.98 * rate - 1e-9);
    }
  });
});
