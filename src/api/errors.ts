import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
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
