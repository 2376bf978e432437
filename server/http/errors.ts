import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every error a client can cause, with its HTTP status: the one table. The body is `{ error, message, ...details }`. */
export const ERROR_CODES = {
  // The first code of each status is the one Hono's own errors of that status map to.
  bad_request: 400,
  unauthorized: 401,
  forbidden_origin: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_error: 422,
  internal_error: 500,
  service_unavailable: 503,
  file_not_available: 404,
  not_completed: 409,
  not_running: 409,
  not_retryable: 409,
  unknown_model: 422,
  unknown_ticker: 422,
  idempotency_key_reused: 422,
  invalid_callback_url: 422,
  no_callback_url: 409,
  not_ended: 409,
  invalid_config: 422,
  insufficient_scope: 403,
  forbidden_host: 403,
  rate_limited: 429,
  too_many_active_jobs: 429,
  email_taken: 409,
  invalid_schedule: 422,
  upgrade_required: 426,
  too_many_connections: 429,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_CODES;
const CODES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** The error body every route documents (OpenAPI component `Error`). */
export const ErrorBody = z
  .object({
    error: z.enum(CODES),
    message: z.string(),
  })
  .catchall(z.unknown())
  .openapi('Error');

/** Hono's HTTPException with a machine-readable code; its status comes from the table above. */
export class ApiError extends HTTPException {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** Response headers the error comes with (`WWW-Authenticate`, `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(ERROR_CODES[code], { message });
    this.name = 'ApiError';
  }
}

/** Hono's own HTTP errors (a malformed JSON body, an unsupported media type) in our vocabulary. */
export function asApiError(err: HTTPException): ApiError {
  if (err instanceof ApiError) return err;
  const code = (Object.keys(ERROR_CODES) as ErrorCode[]).find((k) => ERROR_CODES[k] === err.status) ?? 'bad_request';
  return new ApiError(code, err.message || code);
}

/** Seconds a client is told to wait before trying a 503 again (every 503 says it, in `Retry-After`). */
export const RETRY_AFTER_S = 5;

export function errorResponse(c: Context, err: ApiError) {
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  if (err.status === 503) c.header('Retry-After', String(RETRY_AFTER_S));
  return c.json({ error: err.code, message: err.message, ...err.details }, err.status as ContentfulStatusCode);
}

/** OpenAPI responses for the errors a route can answer with, grouped by status. */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code], [...(byStatus.get(ERROR_CODES[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, names]) => [
      status,
      {
        description: names.join(', '),
        ...(status === 503 ? { headers: RETRY_AFTER_HEADER } : {}),
        content: { 'application/json': { schema: ErrorBody } },
      },
    ]),
  ) as Record<
    number,
    {
      description: string;
      headers?: typeof RETRY_AFTER_HEADER;
      content: { 'application/json': { schema: typeof ErrorBody } };
    }
  >;
}

/** The header every 503 carries, as the OpenAPI document shows it. */
export const RETRY_AFTER_HEADER = {
  'Retry-After': {
    description: 'seconds to wait before trying again',
    schema: { type: 'integer' as const, example: RETRY_AFTER_S },
  },
};

/** What any write can answer before its route runs (server/app.ts' middleware). */
export const WRITE_ERROR_CODES = ['forbidden_origin', 'payload_too_large', 'unsupported_media_type'] as const;

/** What starting an analysis can answer, by `POST /run` or `POST /jobs` alike. */
export const ANALYSIS_START_ERRORS = errorResponses(
  'bad_request',
  'validation_error',
  'unknown_ticker',
  'unknown_model',
  'invalid_callback_url',
  'service_unavailable',
  ...WRITE_ERROR_CODES,
);
