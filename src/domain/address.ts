import type { Channel } from '../contract/types';

export interface ParsedAddress {
  channel: Channel;
  /**
   * The customer's identity on the channel: E.164 (`+5511999990000`), or on WhatsApp a business-scoped user id
   * (BSUID, `BR.1502576394655843`) when the customer uses a username and Meta withholds the number (issue 22 A).
   */
  phone: string;
  /** Set when `phone` is a BSUID, not a phone number. */
  bsuid?: true;
}

const E164 = /^\+[1-9]\d{6,14}$/;
/**
 * Meta's BSUID: an ISO 3166 alpha-2 country code, a period, up to 128 alphanumerics; a parent BSUID (managed
 * businesses) has `ENT.` after the country (`US.ENT.11815799212886844830`).
 */
const BSUID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;

/**
 * Parses a Twilio address: `whatsapp:+5511…` → whatsapp, `+1555…` → sms, `whatsapp:BR.150…` → whatsapp by BSUID
 * (only WhatsApp has them). Returns null when it is not one.
 */
export function parseAddress(address: string): ParsedAddress | null {
  const trimmed = address.trim();
  const [channel, phone] = trimmed.startsWith('whatsapp:')
    ? (['whatsapp', trimmed.slice(9)] as const)
    : (['sms', trimmed] as const);
  if (channel === 'whatsapp' && BSUID.test(phone)) return { channel, phone, bsuid: true };
  const normalized = phone.replace(/[\s().-]/g, '');
  return E164.test(normalized) ? { channel, phone: normalized } : null;
}

/** A phone address only (tenant numbers, campaign targets): a BSUID is not a phone. */
export function parsePhoneAddress(address: string): ParsedAddress | null {
  const parsed = parseAddress(address);
  return parsed && !parsed.bsuid ? parsed : null;
}

/** A BSUID as Twilio sends it in ExternalUserIdentifier (`BR.…`, or `whatsapp:BR.…`); null when it is not one. */
export function parseBsuid(value: string | undefined | null): string | null {
  if (!value) return null;
  const bare = value.trim().replace(/^whatsapp:/, '');
  return BSUID.test(bare) ? bare : null;
}

export function formatAddress(channel: Channel, phone: string): string {
  return channel === 'whatsapp' ? `whatsapp:${phone}` : phone;
}

export function isE164(phone: string): boolean {
  return E164.test(phone);
}
