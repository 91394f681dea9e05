import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { sendError } from './errors.ts';

/**
 * `:id` of the per-session routes. Ids are opaque keys (never file paths), so
 * only what no key can hold is refused: empty, NUL, or longer than 512.
 */
export const sessionIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(512)
    .refine((id) => !id.includes('\0'), 'must not contain NUL'),
});

/** A 400 that says which part of the request was wrong and why. */
export function badRequest(reply: FastifyReply, what: string, error: z.ZodError): FastifyReply {
  const detail = error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ');
  return sendError(reply, 400, 'bad_request', `Invalid ${what}: ${detail}.`);
}
