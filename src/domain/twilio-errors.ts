/** Classification of Twilio REST errors (I10): the one place that decides retry vs give up. */
export type TwilioErrorClass =
  | { kind: 'permanent'; reason: 'invalid_number' | 'opted_out' | 'unreachable' | 'outside_window' | 'rejected' | 'auth' }
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

export function classifyTwilioError(status: number | undefined, code: number | undefined): TwilioErrorClass {
  if (code !== undefined && PERMANENT_CODES[code]) return { kind: 'permanent', reason: PERMANENT_CODES[code] };
  if (status === 429 || code === 20429) return { kind: 'retryable', reason: 'rate_limited' };
  if (status === undefined) return { kind: 'retryable', reason: 'network' };
  if (status >= 500) return { kind: 'retryable', reason: 'server_error' };
  if (status === 401 || status === 403) return { kind: 'permanent', reason: 'auth' };
  return { kind: 'permanent', reason: 'rejected' };
}
