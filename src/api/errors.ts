import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ServiceError, type ServiceErrorCode } from '../services/errors';
import type { AppEnv } from './context';

const STATUS = {
  bad_request: 400,
  unauthorized: 401,
  invalid_signature: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** WhatsApp: the contact's 24 h window is closed and no `agent_reply` Content template is configured. */
  window_closed: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  too_many_requests: 429,
  temporal_unavailable: 503,
  database_unavailable: 503,
  internal: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ApiErrorCode = keyof typeof STATUS;

/** The API's one error type: a code (stable, for clients) mapped to an HTTP status, and a safe message. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.details = options?.details;
  }
  readonly details: unknown;
  get status(): ContentfulStatusCode {
    return STATUS[this.code];
  }
}

/** A use case's error code → the API's (the HTTP status follows from it). */
const FROM_SERVICE = {
  invalid: 'bad_request',
  not_found: 'not_found',
  forbidden: 'forbidden',
  conflict: 'conflict',
  window_closed: 'window_closed',
  unavailable: 'temporal_unavailable',
} as const satisfies Record<ServiceErrorCode, ApiErrorCode>;

/**
 * The one place a use case's ServiceError becomes the API's error (issue 19 A); an ApiError passes as it is,
 * anything else is null (a bug: the caller answers 500). The console uses it too, to show a refusal on its page.
 */
export function asApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  if (!(error instanceof ServiceError)) return null;
  const code = error.unavailable === 'database' ? 'database_unavailable' : FROM_SERVICE[error.code];
  return new ApiError(code, error.message, {
    cause: error,
    ...(error.details !== undefined ? { details: error.details } : {}),
  });
}

/** One JSON error shape for every failure, carrying the request id so a report can be traced. */
export function errorResponse(c: Context<AppEnv>, error: ApiError) {
  if (error.code === 'temporal_unavailable' || error.code === 'database_unavailable') c.header('Retry-After', '5');
  return c.json(
    {
      error: {
        code: error.code,
        message: error.message,
        requestId: c.get('requestId'),
        ...(error.details ? { details: error.details } : {}),
      },
    },
    error.status,
  );
}
