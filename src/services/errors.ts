/**
 * The use cases' one failure type (issue 19 A). A code from a closed set, a message that is safe to show an
 * operator (no phone numbers, no bodies, no secrets), and optional details (the bad rows of a file, the field that
 * was refused). The API maps it once (src/api/errors.ts) to its JSON error and HTTP status; the CLI maps it once
 * (src/cli/main.ts) to its message and exit code. Services throw nothing else on purpose: anything that is not a
 * ServiceError is a bug (the API answers 500).
 */
export type ServiceErrorCode =
  /** The request itself is wrong (a field, a file's rows, a name that refers to nothing the request may name). */
  | 'invalid'
  | 'not_found'
  | 'forbidden'
  /** The thing is in a state that refuses the action (already decided, closed, opted out, …). */
  | 'conflict'
  /** WhatsApp's 24 h window is closed and no approved template is configured for the send's purpose. */
  | 'window_closed'
  /** A dependency did not answer; retrying later may work. `unavailable` says which. */
  | 'unavailable';

export class ServiceError extends Error {
  readonly details: unknown;
  /** With `unavailable`: what could not be reached. */
  readonly unavailable: 'temporal' | 'database' | undefined;
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    options?: { cause?: unknown; details?: unknown; unavailable?: 'temporal' | 'database' },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.details = options?.details;
    this.unavailable = code === 'unavailable' ? (options?.unavailable ?? 'temporal') : undefined;
  }
}
