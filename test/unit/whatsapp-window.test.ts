import { describe, expect, it } from 'vitest';
import { classifyDeliveryError } from '../../src/domain/twilio-errors';
import {
  contentVariables,
  isBusinessInitiated,
  parseContentPositions,
  sendPurpose,
  windowOpen,
} from '../../src/domain/whatsapp-window';

describe('status-callback ErrorCodes', () => {
  it('classifies by the documented codes; unknown codes get the bounded retry and an alert', () => {
    expect(classifyDeliveryError('63016')).toMatchObject({ class: 'window_closed' });
    expect(['30003', '30004'].map((c) => classifyDeliveryError(c).class)).toEqual(['permanent', 'permanent']);
    expect(classifyDeliveryError('21610')).toMatchObject({ class: 'opted_out', reason: 'opted_out' });
    expect(classifyDeliveryError('30007')).toEqual({ class: 'permanent', reason: 'filtered', alert: true });
    expect(classifyDeliveryError('30008')).toEqual({ class: 'retryable', reason: 'unknown_error', alert: false });
    expect(classifyDeliveryError('99999')).toEqual({ class: 'unknown', reason: 'unknown_code', alert: true });
  });
});

describe('the WhatsApp window', () => {
  const now = new Date('2026-05-01T12:00:00Z');
  it('is open for the window after the last inbound, closed at its end and with no inbound', () => {
    expect(windowOpen(new Date(now.getTime() - 86_399_000), now, 86_400_000)).toBe(true);
    expect(windowOpen(new Date(now.getTime() - 86_400_000), now, 86_400_000)).toBe(false);
    expect(windowOpen(null, now, 86_400_000)).toBe(false);
  });

  it('purposes and which sends STOP stops', () => {
    expect(sendPurpose({ sentBy: 'system', template: { key: 'idle_nudge' } })).toBe('idle_nudge');
    expect(sendPurpose({ sentBy: 'agent' })).toBe('agent_reply');
    expect(sendPurpose({ sentBy: 'system', purpose: 'outage_notice' })).toBe('outage_notice');
    expect(isBusinessInitiated({ sentBy: 'system', template: { key: 'promise_reminder' } })).toBe(true);
    expect(isBusinessInitiated({ sentBy: 'system', template: { key: 'opt_out_confirmation' } })).toBe(false);
    expect(isBusinessInitiated({ sentBy: 'system', template: { key: 'fallback' } })).toBe(false);
    expect(isBusinessInitiated({ sentBy: 'ai' })).toBe(false);
  });

  it('maps positions to variables and validates --variables', () => {
    expect(contentVariables({ 1: 'name', 2: 'missing' }, { name: 'Ana' })).toEqual({ 1: 'Ana', 2: '' });
    expect(parseContentPositions('{"1":"name","2":"text"}')).toEqual({ 1: 'name', 2: 'text' });
    expect(() => parseContentPositions('{"a":"name"}')).toThrow(/position/);
    expect(() => parseContentPositions('{"1":"has space"}')).toThrow(/name a variable/);
    expect(() => parseContentPositions('nope')).toThrow(/JSON/);
  });
});
