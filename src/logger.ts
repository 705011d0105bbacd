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

const REAL = Symbol('lazyChild.real');
const LEVEL_METHODS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
const noop = () => undefined;

/**
 * `parent.child(bindings)`, made on first use (issue 25 A: two children per webhook were a measurable part of its
 * CPU, and most requests log nothing at the configured level). A call to a level the parent does not log is the
 * same no-op pino gives and makes no child; anything else makes the child once and goes to it.
 */
export function lazyChild(parent: Logger, bindings: pino.Bindings): Logger {
  let child: Logger | undefined;
  // A lazy parent hands over its real logger (making it then), so the child is a pino child, not another proxy.
  const real = (): Logger => (child ??= ((parent as Logger & { [REAL]?: Logger })[REAL] ?? parent).child(bindings));
  const isLevelEnabled = (level: string) => (child ?? parent).isLevelEnabled(level);
  const lazy: Logger = new Proxy(parent, {
    get(_target, key) {
      if (key === REAL) return real();
      // A child of a lazy child is lazy too: neither is made until something is logged through it.
      if (key === 'child')
        return (bindings: pino.Bindings, options?: pino.ChildLoggerOptions) =>
          options ? real().child(bindings, options) : lazyChild(lazy, bindings);
      if (child === undefined) {
        if (typeof key === 'string' && LEVEL_METHODS.has(key) && !parent.isLevelEnabled(key)) return noop;
        // A child has its parent's level: asked before it exists, the parent answers (a lazy child of a lazy child).
        if (key === 'isLevelEnabled') return isLevelEnabled;
        if (key === 'level') return parent.level;
      }
      const target = real();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set(_target, key, value) {
      return Reflect.set(real(), key, value);
    },
    has(_target, key) {
      return Reflect.has(real(), key);
    },
  });
  return lazy;
}
