import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress } from '../../src/domain/address';
import { contactHash } from '../../src/domain/contact-hash';
import { canTransition, isTerminal } from '../../src/domain/conversation-state';
import { formatDuration, parseDuration } from '../../src/domain/duration';
import { canAdvanceStatus } from '../../src/domain/message-status';
import { classifyTwilioError } from '../../src/domain/twilio-errors';

describe('addresses', () => {
  it('parses WhatsApp and SMS addresses into channel and E.164', () => {
    expect(parseAddress('whatsapp:+5511999990000')).toEqual({ channel: 'whatsapp', phone: '+5511999990000' });
    expect(parseAddress('+1 (555) 010-0000')).toEqual({ channel: 'sms', phone: '+15550100000' });
    expect(formatAddress('whatsapp', '+5511999990000')).toBe('whatsapp:+5511999990000');
  });
  it.each(['', 'whatsapp:', '5511999990000', '+0123456789', 'messenger:+15550100000', '+1555'])(
    'rejects %j',
    (input) => {
      expect(parseAddress(input)).toBeNull();
    },
  );
});

describe('contact hash', () => {
  it('is stable per tenant key, differs across tenants, and does not contain the number', () => {
    const a = contactHash('key-a', '+5511999990000');
    expect(a).toBe(contactHash('key-a', '+5511999990000'));
    expect(a).not.toBe(contactHash('key-b', '+5511999990000'));
    expect(a).toMatch(/^[0-9a-f]{20}$/);
    expect(a).not.toContain('5511999990000');
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['10m', 600_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '10', 'ten minutes', '5x', '1h 30m'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });
  it('formats back', () => {
    expect(formatDuration(600_000)).toBe('10m');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});

describe('delivery status ordering', () => {
  it('only moves forward; failed and undelivered are final', () => {
    expect(canAdvanceStatus('queued', 'sent')).toBe(true);
    expect(canAdvanceStatus('sent', 'delivered')).toBe(true);
    expect(canAdvanceStatus('delivered', 'read')).toBe(true);
    expect(canAdvanceStatus('delivered', 'sent')).toBe(false);
    expect(canAdvanceStatus('delivered', 'delivered')).toBe(false);
    expect(canAdvanceStatus('read', 'failed')).toBe(true);
    expect(canAdvanceStatus('failed', 'delivered')).toBe(false);
    expect(canAdvanceStatus('undelivered', 'read')).toBe(false);
    expect(canAdvanceStatus('sent', 'made-up')).toBe(false);
  });
});

describe('Twilio error classification', () => {
  it.each([
    [400, 21211, 'permanent', 'invalid_number'],
    [400, 21610, 'permanent', 'opted_out'],
    [400, 21614, 'permanent', 'invalid_number'],
    [400, 63016, 'permanent', 'outside_window'],
    [429, 20429, 'retryable', 'rate_limited'],
    [503, undefined, 'retryable', 'server_error'],
    [undefined, undefined, 'retryable', 'network'],
    [401, 20003, 'permanent', 'auth'],
    [400, 99999, 'permanent', 'rejected'],
  ] as const)('HTTP %s code %s → %s (%s)', (status, code, kind, reason) => {
    expect(classifyTwilioError(status, code)).toMatchObject({ kind, reason });
  });
});

describe('conversation state machine', () => {
  it('allows the lifecycle and forbids leaving a terminal state', () => {
    expect(canTransition('PENDING', 'PROGRESS')).toBe(true);
    expect(canTransition('PROGRESS', 'HUMAN')).toBe(true);
    expect(canTransition('HUMAN', 'PROGRESS')).toBe(true);
    expect(canTransition('EXPIRED', 'PROGRESS')).toBe(false);
    expect(canTransition('RESOLVED', 'CLOSED')).toBe(false);
    expect(isTerminal('CLOSED')).toBe(true);
    expect(isTerminal('IDLE')).toBe(false);
  });
});
