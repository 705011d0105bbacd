import { describe, expect, it } from 'vitest';
import { startOfLocalDate } from '../../src/domain/policy/gate';

// Issue 25 C: day starts are remembered by zone and date; the answer must not depend on the instant asked from.
describe('startOfLocalDate', () => {
  it('is the first instant of the local date, the same from any instant of the following week, remembered or not', () => {
    const first = startOfLocalDate('America/Sao_Paulo', new Date('2026-03-10T15:00:00Z'), '2026-03-09');
    expect(first.toISOString()).toBe('2026-03-09T03:00:00.000Z');
    for (const at of ['2026-03-09T03:00:00Z', '2026-03-12T23:59:59Z', '2026-03-16T02:59:59Z'])
      expect(startOfLocalDate('America/Sao_Paulo', new Date(at), '2026-03-09').toISOString()).toBe(
        '2026-03-09T03:00:00.000Z',
      );
    // Another zone, the same date: its own start (the key is the zone and the date).
    expect(startOfLocalDate('Asia/Tokyo', new Date('2026-03-10T15:00:00Z'), '2026-03-09').toISOString()).toBe(
      '2026-03-08T15:00:00.000Z',
    );
    // A returned Date is the caller's: changing it does not change the remembered start.
    first.setTime(0);
    expect(startOfLocalDate('America/Sao_Paulo', new Date('2026-03-11T00:00:00Z'), '2026-03-09').getTime()).toBe(
      Date.parse('2026-03-09T03:00:00Z'),
    );
  });
});
