/** Classification of Twilio REST errors (I10): the one place that decides retry vs give up. */
export type TwilioErrorClass =
  | {
      kind: 'permanent';
      reason: 'invalid_number' | 'opted_out' | 'unreachable' | 'outside_window' | 'rejected' | 'auth';
    }
  | { kind: 'retryable'; reason: 'rate_limited' | 'server_error' | 'network' };

const PERMANENT_CODES: Record<number, Extract<TwilioErrorClass, { kind: 'permanent' }>['reason']> = {
  21211: 'invalid_number', // invalid 'To' phone number
  21614: 'invalid_number', // 'To' number is not a valid mobile number
  21610: 'opted_out', // attempt to send to unsubscribed recipient
  21612: 'unreachable', // 'To' is not currently reachable via SMS
  21408: 'rejected', // permission to send to this region not enabled
  63016: 'outside_window', // WhatsApp: outside the 24h session window, a template is required
  20003: 'auth', // authentication failed
  20404: 'rejected', // resource not found (wrong account or sender)
  21606: 'rejected', // 'From' is not a valid, SMS-capable number for this account
};

/**
 * What an ErrorCode in a status callback (a message Twilio accepted, then could not deliver) means for us. The
 * same codes as the REST table where they overlap (21610, 63016); the 300xx carrier codes only come this way.
 */
export type DeliveryErrorClass =
  /** 63016: free text outside the WhatsApp window; resend as the purpose's Content template when there is one. */
  | { kind: 'window_closed' }
  /** Will fail again the same way: no retry (21610 also opts the contact out). */
  | {
      kind: 'permanent';
      reason: 'opted_out' | 'unreachable' | 'blocked' | 'unknown_destination' | 'landline' | 'invalid_number';
    }
  /** 30007: the carrier filtered the content; retrying the same text is pointless, a human should look at it. */
  | { kind: 'filtered' }
  /** 30008 and anything unknown: may succeed later; retried under the caller's bounded retry policy. */
  | { kind: 'retryable'; reason: 'unknown_error' };

const DELIVERY_CODES: Record<number, DeliveryErrorClass> = {
  63016: { kind: 'window_closed' },
  21610: { kind: 'permanent', reason: 'opted_out' }, // attempt to send to unsubscribed recipient
  21211: { kind: 'permanent', reason: 'invalid_number' },
  30003: { kind: 'permanent', reason: 'unreachable' }, // unreachable destination handset
  30004: { kind: 'permanent', reason: 'blocked' }, // message blocked (by the recipient or their carrier)
  30005: { kind: 'permanent', reason: 'unknown_destination' }, // unknown destination handset
  30006: { kind: 'permanent', reason: 'landline' }, // landline or unreachable carrier
  30007: { kind: 'filtered' }, // message filtered (carrier violation)
  30008: { kind: 'retryable', reason: 'unknown_error' }, // unknown error
};

/** Classifies a status callback's ErrorCode (a string in the form post); unknown codes get the bounded retry. */
export function classifyDeliveryError(code: string | null | undefined): DeliveryErrorClass {
  const n = code ? Number(code) : NaN;
  return DELIVERY_CODES[n] ?? { kind: 'retryable', reason: 'unknown_error' };
}

export function classifyTwilioError(status: number | undefined, code: number | undefined): TwilioErrorClass {
  if (code !== undefined && PERMANENT_CODES[code]) return { kind: 'permanent', reason: PERMANENT_CODES[code] };
  if (status === 429 || code === 20429) return { kind: 'retryable', reason: 'rate_limited' };
  if (status === undefined) return { kind: 'retryable', reason: 'network' };
  if (status >= 500) return { kind: 'retryable', reason: 'server_error' };
  if (status === 401 || status === 403) return { kind: 'permanent', reason: 'auth' };
  return { kind: 'permanent', reason: 'rejected' };
}
