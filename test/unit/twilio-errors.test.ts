import { describe, expect, it } from 'vitest';
import {
  classifyDeliveryError,
  classifyTwilioError,
  contactBackoffMs,
  lookupTwilioError,
  retryBackoffMs,
  TWILIO_ERRORS,
} from '../../src/domain/twilio-errors';

// Issue 22 B: the one table, row by row. Each row: code, class, reason, where Twilio reports it, alert.
const ROWS: [number, string, string, 'rest' | 'callback' | 'both', boolean][] = [
  [20003, 'permanent', 'auth', 'rest', true],
  [20404, 'permanent', 'rejected', 'rest', true],
  [20429, 'retryable', 'rate_limited', 'rest', false],
  [21211, 'contact_invalid', 'invalid_number', 'both', false],
  [21408, 'permanent', 'region_not_enabled', 'rest', true],
  [21602, 'permanent', 'rejected', 'rest', false],
  [21606, 'permanent', 'sender_invalid', 'rest', true],
  [21610, 'opted_out', 'opted_out', 'both', false],
  [21612, 'contact_invalid', 'unreachable', 'rest', false],
  [21614, 'contact_invalid', 'invalid_number', 'rest', false],
  [21617, 'permanent', 'body_too_long', 'rest', false],
  [21654, 'template_invalid', 'content_sid_required', 'rest', true],
  [21656, 'template_invalid', 'content_variables_invalid', 'rest', true],
  [21703, 'permanent', 'sender_invalid', 'rest', true],
  [21705, 'permanent', 'sender_invalid', 'rest', true],
  [35127, 'template_invalid', 'body_with_content_variables', 'rest', true],
  [30001, 'retryable', 'queue_overflow', 'callback', false],
  [30002, 'permanent', 'account_suspended', 'callback', true],
  [30003, 'permanent', 'unreachable', 'callback', false],
  [30004, 'permanent', 'blocked', 'callback', false],
  [30005, 'contact_invalid', 'unknown_destination', 'callback', false],
  [30006, 'contact_invalid', 'landline', 'callback', false],
  [30007, 'permanent', 'filtered', 'callback', true],
  [30008, 'retryable', 'unknown_error', 'callback', false],
  [30022, 'retryable', 'throughput_exceeded', 'callback', false],
  [30032, 'permanent', 'sender_unverified', 'callback', true],
  [30034, 'permanent', 'sender_unregistered', 'callback', true],
  [63001, 'permanent', 'channel_auth', 'callback', true],
  [63003, 'contact_invalid', 'invalid_recipient', 'callback', false],
  [63005, 'retryable', 'channel_error', 'callback', false],
  [63007, 'permanent', 'sender_invalid', 'both', true],
  [63012, 'retryable', 'channel_error', 'callback', false],
  [63013, 'permanent', 'policy_violation', 'callback', true],
  [63016, 'window_closed', 'outside_window', 'both', false],
  [63018, 'retryable', 'rate_limited', 'callback', false],
  [63021, 'permanent', 'invalid_content', 'callback', false],
  [63023, 'retryable', 'channel_error', 'callback', false],
  [63024, 'contact_invalid', 'invalid_recipient', 'callback', false],
  [63027, 'template_invalid', 'template_missing', 'callback', true],
  [63028, 'template_invalid', 'template_parameter_count', 'callback', true],
  [63029, 'retryable', 'template_download', 'callback', false],
  [63030, 'permanent', 'unsupported_parameter', 'callback', false],
  [63032, 'permanent', 'whatsapp_limitation', 'callback', false],
  [63049, 'retry_later_for_contact', 'meta_declined_marketing', 'callback', false],
];

describe('the Twilio error table', () => {
  it('has exactly the rows this test lists (a new row needs its test line)', () => {
    expect(Object.keys(TWILIO_ERRORS).map(Number).sort()).toEqual(ROWS.map((r) => r[0]).sort());
  });

  it.each(ROWS)('%i → %s (%s, %s, alert %s)', (code, cls, reason, where, alert) => {
    expect(TWILIO_ERRORS[code]).toMatchObject({ class: cls, reason, where });
    expect(lookupTwilioError(code)).toEqual({ class: cls, reason, alert });
    expect(classifyDeliveryError(String(code))).toEqual({ class: cls, reason, alert });
    // As a REST answer: retryable rows are retried by Temporal, every other class stops the send.
    expect(classifyTwilioError(400, code).kind).toBe(cls === 'retryable' ? 'retryable' : 'permanent');
  });

  it('unknown codes: a bounded retry and an alert in callbacks; REST by HTTP status', () => {
    expect(classifyDeliveryError('63999')).toEqual({ class: 'unknown', reason: 'unknown_code', alert: true });
    expect(classifyDeliveryError(null)).toMatchObject({ class: 'unknown' });
    expect(classifyDeliveryError('')).toMatchObject({ class: 'unknown' });
    expect(classifyTwilioError(400, 99999)).toMatchObject({ kind: 'permanent', class: 'unknown', alert: true });
    expect(classifyTwilioError(503, 99999)).toMatchObject({ kind: 'retryable', reason: 'server_error' });
    expect(classifyTwilioError(429, undefined)).toMatchObject({ kind: 'retryable', reason: 'rate_limited' });
    expect(classifyTwilioError(undefined, undefined)).toMatchObject({ kind: 'retryable', reason: 'network' });
    expect(classifyTwilioError(401, undefined)).toMatchObject({ kind: 'permanent', reason: 'auth', alert: true });
  });

  it('backs off: resends 30 s then 2 min; 63049 holds a contact 1, 2, 4 days, at most 7', () => {
    expect([0, 1].map((n) => retryBackoffMs(30_000, n))).toEqual([30_000, 120_000]);
    const day = 86_400_000;
    expect([1, 2, 3, 4, 9].map(contactBackoffMs)).toEqual([day, 2 * day, 4 * day, 7 * day, 7 * day]);
  });
});
