import type { z } from '@hono/zod-openapi';

/** An OpenAPI response whose body is `schema` as JSON. */
export const jsonResponse = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** An OpenAPI request body of `schema` as JSON (required unless said otherwise). */
export const jsonBody = <S extends z.ZodType>(schema: S, required = true) => ({
  required,
  content: { 'application/json': { schema } },
});
