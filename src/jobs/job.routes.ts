import { Type } from '@sinclair/typebox';
import type { Deps } from '../context.ts';
import type { ApiApp } from '../http/api.ts';
import { Id, Instant, Nullable } from '../http/schemas.ts';
import { summarizeJobs } from './job.repository.ts';

const Count = Type.Integer({ minimum: 0 });

const JobsStatus = Type.Object({
  counts: Type.Object({ queued: Count, running: Count, succeeded: Count, dead: Count }),
  oldestQueuedRunAt: Type.Union([Instant, Type.Null()], {
    description: 'When the longest-waiting due job became due',
  }),
  recentDead: Type.Array(
    Type.Object({
      id: Id,
      type: Type.String(),
      attempts: Count,
      lastError: Nullable(Type.String()),
      updatedAt: Instant,
    }),
    { description: 'The latest jobs that went to the dead letter, newest first (at most 20)' },
  ),
});

/** The background jobs as an operator sees them: how many wait, and what failed for good. */
export async function jobRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.get(
    '/jobs/status',
    {
      schema: {
        tags: ['Jobs'],
        summary: 'Background jobs per status, and the latest dead-lettered ones with their reasons',
        response: { 200: JobsStatus },
      },
    },
    async () => summarizeJobs(deps.db, deps.now().toISOString()),
  );
}
