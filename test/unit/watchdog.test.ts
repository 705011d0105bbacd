import { describe, expect, it } from 'vitest';
import { formatSla } from '../../src/db/ingress/watchdog';

describe('the watchdog alert names its SLA as people write it (issue 21 D)', () => {
  it('formats whole durations in h, m and s, and odd ones in ms', () => {
    expect(formatSla(120_000)).toBe('2m');
    expect(formatSla(2_000)).toBe('2s');
    expect(formatSla(90_000)).toBe('1m30s');
    expect(formatSla(5_400_000)).toBe('1h30m');
    expect(formatSla(3_600_000)).toBe('1h');
    expect(formatSla(1_500)).toBe('1500ms');
    expect(formatSla(500)).toBe('500ms');
  });
});
