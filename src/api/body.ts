import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from './context';
import { ApiError } from './errors';

/** A JSON request body validated by `schema`; an empty body is `{}`. Bad JSON or fields → 400 with the details. */
export async function readJson<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown = {};
  const text = await c.req.text();
  if (text.trim()) {
    try {
      raw = JSON.parse(text) as unknown;
    } catch {
      throw new ApiError('bad_request', 'body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new ApiError('bad_request', 'invalid request body', {
      details: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  return parsed.data;
}
