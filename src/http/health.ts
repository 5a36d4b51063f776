import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Deps } from '../context.ts';
import { isSchemaCurrent } from '../db/migrate.ts';
import { sendProblem } from './problem.ts';

/** Liveness (the process answers) and readiness (the database answers and the schema is current). */
export async function healthRoutes(app: FastifyInstance, { deps }: { deps: Deps }): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      if (!(await isSchemaCurrent(deps.db)))
        return sendProblem(reply, 'UNAVAILABLE', 'Database migrations are pending; run admit migrate.');
      return { status: 'ready' };
    } catch {
      return sendProblem(reply, 'UNAVAILABLE', 'The database does not answer.');
    }
  });
}
