import pino from 'pino';

export type Logger = pino.Logger;

// Personal data and secrets never reach a log line, even when a caller logs a whole object by mistake.
const REDACT = [
  'body', 'Body', '*.body', '*.Body', 'from', 'to', 'From', 'To', '*.from', '*.to', 'phone', '*.phone',
  'authToken', '*.authToken', 'auth_token', 'apiKey', '*.apiKey', 'password', 'req.headers.authorization',
  'req.headers["x-twilio-signature"]', 'headers.authorization',
];

export function createLogger(level: string, options: { name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino({ level, name: options.name ?? 'causeway', redact: { paths: REDACT, censor: '[redacted]' } }, options.destination);
}
