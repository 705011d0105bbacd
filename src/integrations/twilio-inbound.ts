import { normalizeInboundParams, type NormalizedParams } from '../domain/inbound-text';
import type { InboundInput, MediaItem, TraceContext } from '../contract';
import { parseAddress, parseBsuid, parsePhoneAddress, type ParsedAddress } from '../domain/address';

/**
 * Twilio's inbound message parameters (the webhook's form fields) → what `inbound:<MessageSid>` takes. The webhook,
 * and reconciliation (which renders a listed Message resource as these fields), share it, so a message reaches the
 * workflow in the same shape whichever way it came in.
 */
export type TwilioParams = Record<string, string>;

export const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
export const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
/** Twilio delivers at most 10 media per message. */
export const MAX_MEDIA = 10;

/** A parameter that is missing or malformed; the message says which (never its value: it may be a phone number). */
export class InboundParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InboundParamsError';
  }
}

export interface ParsedInbound {
  messageSid: string;
  accountSid: string;
  to: ParsedAddress;
  from: ParsedAddress;
  media: MediaItem[];
}

function required(params: TwilioParams, name: string, pattern?: RegExp): string {
  const value = params[name];
  if (value === undefined || value === '') throw new InboundParamsError(`missing parameter ${name}`);
  if (pattern && !pattern.test(value)) throw new InboundParamsError(`malformed parameter ${name}`);
  return value;
}

function parseMedia(params: TwilioParams): MediaItem[] {
  const count = Number(params.NumMedia ?? '0');
  if (!Number.isInteger(count) || count < 0 || count > MAX_MEDIA)
    throw new InboundParamsError('malformed parameter NumMedia');
  return Array.from({ length: count }, (_, i) => ({
    url: params[`MediaUrl${i}`] ?? '',
    contentType: params[`MediaContentType${i}`] ?? null,
  })).filter((m) => m.url !== '');
}

/** Checks the identifying fields of an inbound message; throws InboundParamsError. */
export function parseInboundParams(params: TwilioParams): ParsedInbound {
  const messageSid = required(params, 'MessageSid', MESSAGE_SID);
  const accountSid = required(params, 'AccountSid', ACCOUNT_SID);
  // Our number is always a phone; the customer may be a WhatsApp BSUID (issue 22 A).
  const to = parsePhoneAddress(required(params, 'To'));
  if (!to) throw new InboundParamsError('malformed parameter To');
  const from = parseAddress(required(params, 'From'));
  if (!from || from.channel !== to.channel) throw new InboundParamsError('malformed parameter From');
  return { messageSid, accountSid, to, from, media: parseMedia(params) };
}

/**
 * The workflow input for a verified message (webhook) or one recovered from Twilio's log (reconciliation). Text
 * fields are made storable here (D: no NUL, no lone surrogates), so both paths store what Postgres can hold.
 */
export function toInboundInput(
  params: TwilioParams,
  parsed: ParsedInbound,
  tenant: { tenantId: string; tenantSlug: string },
  context: { receivedAt: Date; trace: TraceContext; normalized?: NormalizedParams },
): InboundInput {
  // `normalized`: normalizeInboundParams(params) when the caller has it already (the webhook logs its fields).
  const { params: fields, normalizedFields } = context.normalized ?? normalizeInboundParams(params);
  return {
    tenantId: tenant.tenantId,
    tenantSlug: tenant.tenantSlug,
    messageSid: parsed.messageSid,
    channel: parsed.to.channel,
    from: params.From!,
    to: params.To!,
    body: fields.Body ?? '',
    media: normalizedFields.length > 0 ? parseMedia(fields) : parsed.media,
    profileName: fields.ProfileName ?? null,
    originalRepliedMessageSid: params.OriginalRepliedMessageSid ?? null,
    receivedAt: context.receivedAt.toISOString(),
    trace: context.trace,
    ...(normalizedFields.length > 0 ? { normalizedFields } : {}),
    // Twilio's field for the BSUID (changelog 2026-07-20); only worth carrying when From is the phone.
    ...(!parsed.from.bsuid && parseBsuid(params.ExternalUserIdentifier)
      ? { bsuid: parseBsuid(params.ExternalUserIdentifier)! }
      : {}),
  };
}
