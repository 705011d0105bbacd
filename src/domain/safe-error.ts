import { describeDatabaseError, isDatabaseError } from './database-errors';

/** What a log line or a stored failure may say about an error: its kind and codes, never echoed request content. */
export interface SafeError {
  type: string;
  message: string;
  code?: string | number;
  status?: number;
  moreInfo?: string;
  stack?: string;
  cause?: SafeError;
}

const MAX_DEPTH = 5;
/** A stack without its first line (which repeats the message): frames name files and functions, no data. */
const framesOf = (stack: unknown) =>
  typeof stack === 'string'
    ? stack
        .split('\n')
        .filter((line) => /^\s+at /.test(line))
        .join('\n')
    : undefined;

/**
 * The one place that turns any error into something safe to log (the logger's `err` / `error` serializer uses it):
 * - database errors (drizzle's DrizzleQueryError message lists the bound parameters: phones, bodies, auth tokens,
 *   and carries them in `.params`): the codes only;
 * - Twilio's RestException ("The 'To' number +55… is not a valid phone number") and OpenAI's APIError (may quote
 *   the request): status, code and Twilio's documentation link, not the text;
 * - anything else: its message, with the cause chain treated the same way (pino's own serializer would append the
 *   raw causes' messages and copy every enumerable property).
 */
export function safeError(error: unknown, depth = 0): SafeError {
  if (!(error instanceof Error) && (typeof error !== 'object' || error === null))
    return { type: typeof error, message: String(error) };
  const e = error as Error & { code?: unknown; status?: unknown; moreInfo?: unknown; cause?: unknown };
  const type = e.constructor?.name && e.constructor.name !== 'Object' ? e.constructor.name : (e.name ?? 'Error');
  if (isDatabaseError(error)) return { type: 'DatabaseError', message: describeDatabaseError(error) };
  if (type === 'RestException' || (typeof e.moreInfo === 'string' && typeof e.status === 'number')) {
    return {
      type: 'TwilioRestException',
      message: `Twilio ${String(e.status)}${typeof e.code === 'number' ? ` code ${e.code}` : ''}`,
      status: e.status as number,
      ...(typeof e.code === 'number' ? { code: e.code } : {}),
      ...(typeof e.moreInfo === 'string' ? { moreInfo: e.moreInfo } : {}),
    };
  }
  if (typeof e.status === 'number' && 'headers' in e && 'error' in e) {
    return {
      type: `OpenAI.${type}`,
      message: `AI endpoint answered ${e.status}`,
      status: e.status,
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
    };
  }
  const safe: SafeError = { type, message: typeof e.message === 'string' ? e.message : String(e) };
  if (typeof e.code === 'string' || typeof e.code === 'number') safe.code = e.code;
  const stack = framesOf(e.stack);
  if (stack) safe.stack = stack;
  if (e.cause !== undefined && depth < MAX_DEPTH) safe.cause = safeError(e.cause, depth + 1);
  return safe;
}
