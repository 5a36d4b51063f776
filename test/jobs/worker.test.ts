import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { enqueue } from '../../src/jobs/enqueue.ts';
import { claimJobs } from '../../src/jobs/job.repository.ts';
import { backoffMs, type JobHandler, PermanentJobError, RetryLater, Worker } from '../../src/jobs/worker.ts';
import { eventually } from '../support/eventually.ts';
import { rand } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

const fast = { pollMs: 10, leaseMs: 300, backoffBaseMs: 20, backoffCapMs: 80 };

it('backoff doubles, is capped, and keeps half of it fixed', () => {
  assert.equal(
    backoffMs(1, 1000, 60_000, () => 0),
    500,
  );
  assert.equal(
    backoffMs(1, 1000, 60_000, () => 1),
    1000,
  );
  assert.equal(
    backoffMs(4, 1000, 60_000, () => 1),
    8000,
  );
  assert.equal(
    backoffMs(30, 1000, 60_000, () => 1),
    60_000,
  );
  assert.equal(
    backoffMs(30, 1000, 60_000, () => 0),
    30_000,
  );
});

onBothDatabases('the job worker', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  const job = async (id: string) =>
    h.deps.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const add = async (type: string, payload: Record<string, unknown> = {}, maxAttempts = 5) =>
    (await enqueue(h.deps.db, h.deps.now(), { type, payload, maxAttempts }))[0] as string;
  async function withWorker(
    handlers: Record<string, JobHandler>,
    fn: (w: Worker) => Promise<void>,
    options = {},
  ) {
    const w = new Worker(h.deps, new Map(Object.entries(handlers)), { ...fast, ...options });
    w.start();
    try {
      await fn(w);
    } finally {
      await w.stop();
    }
  }

  it('runs a job once and records success', async () => {
    const type = `t.${rand()}`;
    const seen: string[] = [];
    const id = await add(type, { n: 1 });
    await withWorker({ [type]: async (j) => void seen.push(`${j.id}:${j.payload.n}`) }, async () => {
      await eventually(async () => (await job(id)).status === 'succeeded');
    });
    assert.deepEqual(seen, [`${id}:1`]);
  });

  it('retries with backoff, then succeeds; gives up into the dead letter with the reason', async () => {
    const flaky = `flaky.${rand()}`;
    const doomed = `doomed.${rand()}`;
    let tries = 0;
    const a = await add(flaky);
    const b = await add(doomed, {}, 3);
    const c = await add(doomed, { permanent: true }, 10);
    await withWorker(
      {
        [flaky]: async () => {
          tries += 1;
          if (tries < 3) throw new Error(`try ${tries} failed`);
        },
        [doomed]: async (j) => {
          if (j.payload.permanent) throw new PermanentJobError('cannot ever work');
          throw new Error('always fails');
        },
      },
      async () => {
        await eventually(
          async () =>
            (await job(a)).status === 'succeeded' &&
            (await job(b)).status === 'dead' &&
            (await job(c)).status === 'dead',
        );
      },
    );
    assert.equal(tries, 3);
    assert.equal((await job(a)).attempts, 3);
    const deadB = await job(b);
    assert.equal(deadB.attempts, 3);
    assert.match(deadB.last_error ?? '', /always fails/);
    const deadC = await job(c);
    assert.equal(deadC.attempts, 1, 'a permanent error is not retried');
    assert.match(deadC.last_error ?? '', /cannot ever work/);
  });

  it('puts a job back without counting the attempt when asked to wait', async () => {
    const type = `wait.${rand()}`;
    let calls = 0;
    const id = await add(type, {}, 2);
    await withWorker(
      {
        [type]: async () => {
          calls += 1;
          if (calls < 4) throw new RetryLater(10, 'paused');
        },
      },
      async () => {
        await eventually(async () => (await job(id)).status === 'succeeded');
      },
    );
    assert.equal(calls, 4, 'four runs although at most two attempts are allowed');
  });

  it('takes over the job of a worker that died, once its lease ran out', async () => {
    const type = `orphan.${rand()}`;
    const id = await add(type);
    const now = h.deps.now();
    const claimed = await claimJobs(h.deps.db, h.deps.dialect, {
      types: [type],
      limit: 1,
      workerId: 'dead-worker',
      now: now.toISOString(),
      leaseUntil: new Date(now.getTime() + 400).toISOString(),
    });
    assert.deepEqual(
      claimed.map((j) => j.id),
      [id],
    );
    let ran = 0;
    const started = Date.now();
    await withWorker(
      {
        [type]: async () => {
          ran += 1;
        },
      },
      async () => {
        await eventually(async () => (await job(id)).status === 'succeeded');
      },
    );
    assert.equal(ran, 1);
    assert.ok(Date.now() - started >= 300, 'not before the lease ran out');
  });

  it('shares 300 jobs between three workers, each job done exactly once', async () => {
    const type = `shared.${rand()}`;
    const ids = await enqueue(
      h.deps.db,
      h.deps.now(),
      Array.from({ length: 300 }, (_, n) => ({ type, payload: { n } })),
    );
    const runs = new Map<string, string[]>();
    const workers = ['w1', 'w2', 'w3'].map(
      (workerId) =>
        new Worker(
          h.deps,
          new Map([
            [
              type,
              (async (j) => {
                runs.set(j.id, [...(runs.get(j.id) ?? []), workerId]);
                await new Promise((r) => setTimeout(r, 2));
              }) as JobHandler,
            ],
          ]),
          { ...fast, leaseMs: 5000, concurrency: 8, workerId },
        ),
    );
    for (const w of workers) w.start();
    try {
      await eventually(async () => {
        const done = await h.deps.db
          .selectFrom('jobs')
          .select('id')
          .where('type', '=', type)
          .where('status', '=', 'succeeded')
          .execute();
        return done.length === 300;
      }, 30_000);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    assert.equal(runs.size, 300);
    assert.ok(
      [...runs.values()].every((r) => r.length === 1),
      'no job ran twice',
    );
    assert.ok(new Set([...runs.values()].map((r) => r[0])).size > 1, 'the work was shared');
    assert.equal(ids.length, 300);
  });

  it('finishes the jobs in flight when stopped, and leaves unknown job types queued', async () => {
    const slow = `slow.${rand()}`;
    const unknown = `unknown.${rand()}`;
    const a = await add(slow);
    const u = await add(unknown);
    let finished = false;
    const w = new Worker(
      h.deps,
      new Map([
        [
          slow,
          (async () => {
            await new Promise((r) => setTimeout(r, 300));
            finished = true;
          }) as JobHandler,
        ],
      ]),
      fast,
    );
    w.start();
    await eventually(async () => (await job(a)).status === 'running');
    await w.stop();
    assert.equal(finished, true);
    assert.equal((await job(a)).status, 'succeeded');
    assert.equal((await job(u)).status, 'queued');
  });
});
