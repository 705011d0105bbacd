import type { Channel } from '../contract/types';

export interface ParsedAddress {
  channel: Channel;
  /** E.164, e.g. +5511999990000 */
  phone: string;
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** Parses a Twilio address: `whatsapp:+5511…` → whatsapp, `+1555…` → sms. Returns null when it is not one. */
export function parseAddress(address: string): ParsedAddress | null {
  const trimmed = address.trim();
  const [channel, phone] = trimmed.startsWith('whatsapp:')
    ? (['whatsapp', trimmed.slice(9)] as const)
    : (['sms', trimmed] as const);
  const normalized = phone.replace(/[\s().-]/g, '');
  return E164.test(normalized) ? { channel, phone: normalized } : null;
}

export function formatAddress(channel: Channel, phone: string): string {
  return channel === 'whatsapp' ? `whatsapp:${phone}` : phone;
}

export function isE164(phone: string): boolean {
  return E164.test(phone);
}
