import { describe, expect, it } from 'vitest';
import { createSendGate, SendAborted, slotIntervalMs } from '../../src/activities/send-gate';

describe('send gate', () => {
  it('lets calls from one sender through at least an interval apart, even when all are due at once', async () => {
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
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(9);
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
