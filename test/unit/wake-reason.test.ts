import { describe, expect, it } from 'vitest';
import { clampUtf8, iso, reasonOnly, wakeReason } from '../../src/domain/wake-reason';

const at = Date.parse('2026-12-07T11:00:00.000Z');
const gate = 'outside contact hours (SP: Lei 15.426/2014, art. 2) until 2026-12-07T11:00:00.000Z';

describe('why a campaign sleeps (issue 21 F)', () => {
  it('a target held by the outbound policy: the rule and the instant, once', () => {
    const reason = wakeReason(
      { outcome: 'waiting_active_hours', nextAttemptAt: at, hold: { until: at, reason: gate } },
      null,
    );
    expect(reason).toBe('held until 2026-12-07T11:00:00Z — outside contact hours (SP: Lei 15.426/2014, art. 2)');
  });

  it('an old hold the campaign hours moved past is not the reason', () => {
    const reason = wakeReason(
      { outcome: 'waiting_active_hours', nextAttemptAt: at + 3_600_000, hold: { until: at, reason: gate } },
      null,
    );
    expect(reason).toBe('campaign active hours open at 2026-12-07T12:00:00Z');
  });

  it.each([
    ['contact_backoff', 'contact backoff (WhatsApp 63049) ends at 2026-12-07T11:00:00Z'],
    ['queued', "a send batch's claim lease ends at 2026-12-07T11:00:00Z"],
    ['awaiting_reply', 'retry spacing: no reply yet, next attempt at 2026-12-07T11:00:00Z'],
    ['retry_after_undelivered', 'retry spacing after undelivered: next attempt at 2026-12-07T11:00:00Z'],
    [null, 'next target due at 2026-12-07T11:00:00Z'],
  ])('outcome %s', (outcome, expected) => {
    expect(wakeReason({ outcome, nextAttemptAt: at, hold: null }, null)).toBe(expected);
  });

  it('an overdue delivery status comes first when it is earlier', () => {
    expect(wakeReason({ outcome: null, nextAttemptAt: at, hold: null }, at - 1000)).toMatch(
      /^delivery timeout: .* at 2026-12-07T10:59:59Z$/,
    );
    expect(wakeReason(null, at)).toMatch(/^delivery timeout/);
    expect(wakeReason(null, null)).toBeNull();
  });

  it('formats', () => {
    expect(iso(at + 123)).toBe('2026-12-07T11:00:00Z');
    expect(reasonOnly(gate)).not.toMatch(/until/);
    expect(reasonOnly('frequency cap reached (5/5 today, 5/15 this week) until 2026-12-08T03:00:00.000Z')).toBe(
      'frequency cap reached (5/5 today, 5/15 this week)',
    );
  });

  it('clamps a summary to its byte budget on a code point (the server refuses a summary past 400 bytes)', () => {
    expect(clampUtf8('short', 160)).toBe('short');
    const long = `held until 2026-12-07T11:00:00Z — ${'ação '.repeat(60)}`;
    const cut = clampUtf8(long, 160);
    expect(new TextEncoder().encode(cut).length).toBeLessThanOrEqual(160);
    expect(cut.endsWith('…')).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
  });
});
