import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sendError } from '../errors.ts';
import type { PlanQueries } from '../queries.ts';

/** A plan id: a folder name, optionally `@project`; never a path. */
const planId = z
  .string()
  .min(1)
  .max(255)
  .refine((id) => !id.includes('\0'), 'must not contain NUL')
  .refine((id) => !id.includes('/') && !id.includes('\\'), 'must not contain a path separator')
  .refine((id) => id !== '.' && id !== '..', 'must not be . or ..');

/** `GET /api/plans` and `GET /api/plans/:id`. */
export async function plansRoutes(
  app: FastifyInstance,
  opts: { plans: PlanQueries },
): Promise<void> {
  app.get('/api/plans', async () => {
    const plans = opts.plans.list();
    return { plans, count: plans.length };
  });

  // A wildcard, not `:id`: Fastify answers 414 for long params, and an over-long id is a 400.
  app.get('/api/plans/*', async (request, reply) => {
    const parsed = planId.safeParse((request.params as { '*'?: unknown })['*']);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => i.message).join('; ');
      return sendError(
        reply,
        400,
        'bad_request',
        `Invalid plan id: ${why}. GET /api/plans lists the ids.`,
      );
    }
    const detail = opts.plans.get(parsed.data);
    if (!detail) {
      return sendError(
        reply,
        404,
        'not_found',
        `No plan '${parsed.data}'. GET /api/plans lists them.`,
      );
    }
    return detail;
  });
}
