/**
 * The one table of Twilio error codes (I10, issue 22 B): what a code means for the message, the contact and the
 * operators, whether it came back from the REST API (the create call failed) or in a status callback (Twilio
 * accepted the message, then it failed). Sources: Twilio's Error and Warning Dictionary (twilio.com/docs/api/errors/<code>)
 * and its WhatsApp ↔ Meta error mapping (twilio.com/docs/whatsapp/api/error-code-mapping); docs/channels.md lists
 * the rows with the reason for each. Used by the sender (REST answers), delivery callbacks
 * (src/db/ingress/delivery-status.ts, which also moves campaign targets) and reconciliation (which feeds Twilio's
 * listed status through the same path).
 */

export type ErrorClass =
  /** Will fail again the same way: no retry. */
  | 'permanent'
  /** May succeed later: retried under a bounded, growing backoff. */
  | 'retryable'
  /** Meta will not deliver to this user now (63049): a per-contact backoff, never an immediate resend. */
  | 'retry_later_for_contact'
  /** The address cannot receive on this channel: the contact is marked, nothing is retried. */
  | 'contact_invalid'
  /** The recipient unsubscribed (21610): opted out everywhere (I12). */
  | 'opted_out'
  /** The template or its variables are wrong: an admin must fix the template; the send is not retried. */
  | 'template_invalid'
  /** Free text outside the WhatsApp 24 h window (63016): resent as the purpose's Content template when there is one. */
  | 'window_closed';

export interface TwilioErrorRow {
  class: ErrorClass;
  /** Short machine reason, stored on the outbox row / campaign target outcome. */
  reason: string;
  /** Where Twilio reports it: the REST create call, a status callback (ErrorCode), or both. */
  where: 'rest' | 'callback' | 'both';
  /** An operator must act (sender or account configuration, carrier filtering, a broken template). */
  alert?: boolean;
  /** Twilio's title, for docs and alert messages. */
  title: string;
}

/** Every Twilio code Causeway knows, one row each; docs/channels.md renders the same table. */
export const TWILIO_ERRORS: Readonly<Record<number, TwilioErrorRow>> = {
  // Account and request (REST)
  20003: { class: 'permanent', reason: 'auth', where: 'rest', alert: true, title: 'Authentication failed' },
  20404: { class: 'permanent', reason: 'rejected', where: 'rest', alert: true, title: 'Resource not found' },
  20429: { class: 'retryable', reason: 'rate_limited', where: 'rest', title: 'Too many requests' },
  21211: { class: 'contact_invalid', reason: 'invalid_number', where: 'both', title: "Invalid 'To' phone number" },
  21408: {
    class: 'permanent',
    reason: 'region_not_enabled',
    where: 'rest',
    alert: true,
    title: 'Permission to send to this region not enabled',
  },
  21602: { class: 'permanent', reason: 'rejected', where: 'rest', title: 'Message body is required' },
  21606: {
    class: 'permanent',
    reason: 'sender_invalid',
    where: 'rest',
    alert: true,
    title: "'From' is not a valid, message-capable number for this account",
  },
  21610: { class: 'opted_out', reason: 'opted_out', where: 'both', title: 'Attempt to send to unsubscribed recipient' },
  21612: {
    class: 'contact_invalid',
    reason: 'unreachable',
    where: 'rest',
    title: "'To' is not currently reachable via SMS",
  },
  21614: {
    class: 'contact_invalid',
    reason: 'invalid_number',
    where: 'rest',
    title: "'To' number is not a valid mobile number",
  },
  21617: {
    class: 'permanent',
    reason: 'body_too_long',
    where: 'rest',
    title: 'Concatenated message body exceeds the 1600 character limit',
  },
  21654: {
    class: 'template_invalid',
    reason: 'content_sid_required',
    where: 'rest',
    alert: true,
    title: 'ContentSid required (ContentVariables without ContentSid)',
  },
  21656: {
    class: 'template_invalid',
    reason: 'content_variables_invalid',
    where: 'rest',
    alert: true,
    title: 'The ContentVariables parameter is invalid (not JSON, or a null/empty value)',
  },
  21703: {
    class: 'permanent',
    reason: 'sender_invalid',
    where: 'rest',
    alert: true,
    title: 'Messaging Service has no phone numbers in its sender pool',
  },
  21705: {
    class: 'permanent',
    reason: 'sender_invalid',
    where: 'rest',
    alert: true,
    title: 'Messaging Service is invalid',
  },
  35127: {
    class: 'template_invalid',
    reason: 'body_with_content_variables',
    where: 'rest',
    alert: true,
    title: "'Messages' Body and ContentVariables cannot be provided together",
  },
  // Carrier delivery (callbacks)
  30001: { class: 'retryable', reason: 'queue_overflow', where: 'callback', title: 'Queue overflow' },
  30002: {
    class: 'permanent',
    reason: 'account_suspended',
    where: 'callback',
    alert: true,
    title: 'Account suspended',
  },
  30003: { class: 'permanent', reason: 'unreachable', where: 'callback', title: 'Unreachable destination handset' },
  30004: { class: 'permanent', reason: 'blocked', where: 'callback', title: 'Message blocked' },
  30005: {
    class: 'contact_invalid',
    reason: 'unknown_destination',
    where: 'callback',
    title: 'Unknown destination handset',
  },
  30006: { class: 'contact_invalid', reason: 'landline', where: 'callback', title: 'Landline or unreachable carrier' },
  30007: {
    class: 'permanent',
    reason: 'filtered',
    where: 'callback',
    alert: true,
    title: 'Message filtered (carrier violation)',
  },
  30008: { class: 'retryable', reason: 'unknown_error', where: 'callback', title: 'Unknown error' },
  30022: {
    class: 'retryable',
    reason: 'throughput_exceeded',
    where: 'callback',
    title: 'US A2P 10DLC: rate limits exceeded',
  },
  30032: {
    class: 'permanent',
    reason: 'sender_unverified',
    where: 'callback',
    alert: true,
    title: 'Toll-free number has not been verified',
  },
  30034: {
    class: 'permanent',
    reason: 'sender_unregistered',
    where: 'callback',
    alert: true,
    title: 'Message from an unregistered number (US A2P 10DLC)',
  },
  // WhatsApp (Twilio 630xx, mapped from Meta's codes)
  63001: {
    class: 'permanent',
    reason: 'channel_auth',
    where: 'callback',
    alert: true,
    title: 'Channel could not authenticate the request',
  },
  63003: {
    class: 'contact_invalid',
    reason: 'invalid_recipient',
    where: 'callback',
    title: 'Channel could not find To address',
  },
  63005: {
    class: 'retryable',
    reason: 'channel_error',
    where: 'callback',
    title: 'Channel did not accept given content',
  },
  63007: {
    class: 'permanent',
    reason: 'sender_invalid',
    where: 'both',
    alert: true,
    title: "Twilio could not find a Channel with the specified 'From' address",
  },
  63012: {
    class: 'retryable',
    reason: 'channel_error',
    where: 'callback',
    title: 'Channel provider returned an internal service error',
  },
  63013: {
    class: 'permanent',
    reason: 'policy_violation',
    where: 'callback',
    alert: true,
    title: 'Channel policy violation',
  },
  63016: {
    class: 'window_closed',
    reason: 'outside_window',
    where: 'both',
    title: 'Outside the allowed window (free-form message after 24 h)',
  },
  63018: { class: 'retryable', reason: 'rate_limited', where: 'callback', title: 'Rate limit exceeded for channel' },
  63021: { class: 'permanent', reason: 'invalid_content', where: 'callback', title: 'Channel invalid content error' },
  63023: { class: 'retryable', reason: 'channel_error', where: 'callback', title: 'Channel generic error' },
  63024: {
    class: 'contact_invalid',
    reason: 'invalid_recipient',
    where: 'callback',
    title: 'Invalid message recipient',
  },
  63027: {
    class: 'template_invalid',
    reason: 'template_missing',
    where: 'callback',
    alert: true,
    title: 'Template does not exist for this language and locale',
  },
  63028: {
    class: 'template_invalid',
    reason: 'template_parameter_count',
    where: 'callback',
    alert: true,
    title: 'Number of parameters provided does not match the expected number of parameters',
  },
  63029: {
    class: 'retryable',
    reason: 'template_download',
    where: 'callback',
    title: 'The receiver failed to download the template',
  },
  63030: {
    class: 'permanent',
    reason: 'unsupported_parameter',
    where: 'callback',
    title: "Unsupported parameter for this type of channel's message",
  },
  63032: {
    class: 'permanent',
    reason: 'whatsapp_limitation',
    where: 'callback',
    title: 'Cannot send to this user because of a WhatsApp limitation',
  },
  63049: {
    class: 'retry_later_for_contact',
    reason: 'meta_declined_marketing',
    where: 'callback',
    title: 'Meta chose not to deliver this WhatsApp marketing message',
  },
};

/** What an error code means, with `unknown` for a code not in the table (bounded backoff and an alert). */
export interface ErrorDecision {
  class: ErrorClass | 'unknown';
  reason: string;
  alert: boolean;
}

export function lookupTwilioError(code: number | string | null | undefined): ErrorDecision {
  const n = typeof code === 'string' ? (code.trim() === '' ? NaN : Number(code)) : (code ?? NaN);
  const row = Number.isInteger(n) ? TWILIO_ERRORS[n] : undefined;
  if (!row) return { class: 'unknown', reason: 'unknown_code', alert: true };
  return { class: row.class, reason: row.reason, alert: row.alert === true || row.class === 'template_invalid' };
}

/** The REST answer of a create call: give up (and what follows) or let Temporal retry it. */
export type TwilioErrorClass = {
  kind: 'permanent' | 'retryable';
  reason: string;
  class: ErrorClass | 'unknown';
  alert: boolean;
};

/**
 * A REST error. A known code follows its row; an unknown one: 429 and 5xx (and no answer at all) are retried by
 * Temporal's bounded policy; any other 4xx refused the request as it stands, so retrying it is pointless: permanent,
 * with an alert so somebody adds the code to the table.
 */
export function classifyTwilioError(status: number | undefined, code: number | undefined): TwilioErrorClass {
  const known = code !== undefined ? lookupTwilioError(code) : null;
  if (known && known.class !== 'unknown') {
    const kind = known.class === 'retryable' ? 'retryable' : 'permanent';
    return { kind, ...known };
  }
  if (status === 429) return { kind: 'retryable', reason: 'rate_limited', class: 'retryable', alert: false };
  if (status === undefined) return { kind: 'retryable', reason: 'network', class: 'retryable', alert: false };
  if (status >= 500) return { kind: 'retryable', reason: 'server_error', class: 'retryable', alert: false };
  if (status === 401 || status === 403) return { kind: 'permanent', reason: 'auth', class: 'permanent', alert: true };
  return { kind: 'permanent', reason: 'rejected', class: 'unknown', alert: true };
}

/** A status callback's ErrorCode (a string in the form post); unknown codes get the bounded retry and an alert. */
export function classifyDeliveryError(code: string | null | undefined): ErrorDecision {
  return lookupTwilioError(code);
}

/** Resends after retryable delivery errors wait base × 4^n (n = resends so far): 30 s, 2 min with the default base. */
export function retryBackoffMs(baseMs: number, resendsSoFar: number): number {
  return baseMs * 4 ** Math.max(0, resendsSoFar);
}

/**
 * 63049: Twilio advises progressive backoff, not a retry. A contact's n-th consecutive 63049 holds every
 * business-initiated send to it for 24 h × 2^(n-1), at most 7 days; a delivered message ends the streak.
 */
export const CONTACT_BACKOFF_BASE_MS = 24 * 3_600_000;
export const CONTACT_BACKOFF_MAX_MS = 7 * 24 * 3_600_000;

export function contactBackoffMs(consecutive: number): number {
  return Math.min(CONTACT_BACKOFF_MAX_MS, CONTACT_BACKOFF_BASE_MS * 2 ** Math.max(0, consecutive - 1));
}
