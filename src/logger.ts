import pino from 'pino';
import { safeError } from './domain/safe-error';

export type Logger = pino.Logger;

// Personal data and secrets never reach a log line, even when a caller logs a whole object by mistake.
const REDACT = [
  'body',
  'Body',
  '*.body',
  '*.Body',
  'from',
  'to',
  'From',
  'To',
  '*.from',
  '*.to',
  'phone',
  '*.phone',
  'authToken',
  '*.authToken',
  'auth_token',
  'apiKey',
  '*.apiKey',
  'password',
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  'headers.authorization',
];

export function createLogger(
  level: string,
  options: { name?: string; destination?: pino.DestinationStream } = {},
): Logger {
  // `err` / `error` (ours, and the Temporal SDK's "Activity failed" meta) go through safeError: no bound query
  // parameters, no echoed Twilio / OpenAI request content, whatever the call site passed.
  // Strings and plain objects (already described by the caller, e.g. describeFatal) pass as they are.
  const safe = (value: unknown) => (value instanceof Error ? safeError(value) : value);
  const serializers = { err: safe, error: safe };
  return pino(
    { level, name: options.name ?? 'causeway', redact: { paths: REDACT, censor: '[redacted]' }, serializers },
    options.destination,
  );
}
