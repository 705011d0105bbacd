import { describe, expect, it } from 'vitest';
import { createSendGate } from '../../src/activities/send-gate';

describe('send gate', () => {
  it('lets calls from one sender through at least an interval apart, even when all are due at once', async () => {
    const gate = createSendGate();
    const passed: number[] = [];
    const start = Date.now();
    await Promise.all(Array.from({ length: 20 }, async () => {
      await gate.wait('whatsapp:+15550001', start, 10);
      passed.push(Date.now());
    }));
    passed.sort((a, b) => a - b);
    const gaps = passed.slice(1).map((t, i) => t - passed[i]!);
    // Measured after the await resumes, so a millisecond of the caller's own delay may fall inside a gap.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(9);
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
});
