import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every error a client can cause, with its HTTP status; the body is `{ error, message, ...details }`. */
export const ERROR_CODES = {
  bad_request: 400,
  validation_error: 422,
  unknown_model: 422,
  unknown_ticker: 422,
  not_completed: 409,
  file_not_available: 404,
  not_found: 404,
  conflict: 409,
  not_running: 409,
  not_retryable: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  service_unavailable: 503,
  internal_error: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): ContentfulStatusCode {
    return ERROR_CODES[this.code];
  }
}

export function errorResponse(c: Context, err: ApiError) {
  return c.json({ error: err.code, message: err.message, ...err.details }, err.status);
}
