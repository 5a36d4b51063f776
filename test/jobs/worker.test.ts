import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { enqueue } from '../../src/jobs/enqueue.ts';
import { claimJobs } from '../../src/jobs/job.repository.ts';
import { jobHandlers } from '../../src/jobs/registry.ts';
import { backoffMs, type JobHandler, PermanentJobError, RetryLater, Worker } from '../../src/jobs/worker.ts';
import { DELIVER_JOB } from '../../src/modules/emails/email.ts';
import { eventually } from '../support/eventually.ts';
import { type Json, ok, rand } from '../support/factories.ts';
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
    const claimed = await claimJobs(h.deps.db, {
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

  it('finishes the jobs in flight when stopped, and leaves a new job of an unknown type queued', async () => {
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

  const setPayload = (id: string, payload: string) =>
    sql`update jobs set payload = ${payload} where id = ${id}`.execute(h.deps.db);

  it('dead-letters a payload that is not a JSON object at once, with the reason', async () => {
    const type = `shape.${rand()}`;
    let ran = 0;
    const array = await add(type);
    await setPayload(array, '[1, 2]');
    const broken = dialect === 'sqlite' ? await add(type) : null;
    if (broken) await setPayload(broken, '{not json');
    const fine = await add(type, { n: 1 });
    await withWorker(
      {
        [type]: async () => {
          ran += 1;
        },
      },
      async () => {
        await eventually(
          async () => (await job(fine)).status === 'succeeded' && (await job(array)).status === 'dead',
        );
      },
    );
    assert.equal(ran, 1, 'the handler runs only for the good payload');
    const dead = await job(array);
    assert.equal(dead.attempts, 1, 'not retried');
    assert.match(dead.last_error ?? '', /Malformed payload: the payload is not a JSON object/);
    if (broken) {
      assert.equal((await job(broken)).status, 'dead');
      assert.match((await job(broken)).last_error ?? '', /the payload is not JSON/);
    }
  });

  it("dead-letters a payload that does not match its handler's type, naming the field", async () => {
    const id = (
      await enqueue(h.deps.db, h.deps.now(), {
        type: DELIVER_JOB,
        payload: { emailIds: 'all' },
        maxAttempts: 10,
      })
    )[0] as string;
    const handlers = jobHandlers();
    await withWorker(Object.fromEntries(handlers), async () => {
      await eventually(async () => (await job(id)).status === 'dead');
    });
    const dead = await job(id);
    assert.equal(dead.attempts, 1);
    assert.match(dead.last_error ?? '', /Malformed payload: \/emailIds /);
  });

  it('dead-letters a job no handler knows once it has waited, and says so', async () => {
    const known = `known.${rand()}`;
    const orphan = await add(`orphan.${rand()}`);
    const young = await add(`young.${rand()}`);
    await sql`update jobs set run_at = ${new Date(Date.now() - 60_000).toISOString()} where id = ${orphan}`.execute(
      h.deps.db,
    );
    await withWorker(
      { [known]: async () => {} },
      async () => {
        await eventually(async () => (await job(orphan)).status === 'dead');
      },
      { unhandledAfterMs: 30_000 },
    );
    assert.match((await job(orphan)).last_error ?? '', /No handler for job type orphan\.\w+ in this release/);
    assert.equal((await job(young)).status, 'queued', 'a job due for less than the wait is left alone');
  });

  it('prunes finished and dead jobs older than the retention, and keeps the rest', async () => {
    const type = `prune.${rand()}`;
    const ids = {
      oldDone: await add(type),
      oldDead: await add(type),
      newDone: await add(type),
      oldQueued: await add(`q.${rand()}`),
    };
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const status = {
      oldDone: 'succeeded',
      oldDead: 'dead',
      newDone: 'succeeded',
      oldQueued: 'queued',
    } as const;
    for (const [k, id] of Object.entries(ids)) {
      await h.deps.db
        .updateTable('jobs')
        .set({
          status: status[k as keyof typeof status],
          updated_at: k.startsWith('old') ? old : new Date().toISOString(),
          run_at: new Date(Date.now() + 3_600_000).toISOString(),
        })
        .where('id', '=', id)
        .execute();
    }
    await withWorker(
      { [type]: async () => {} },
      async () => {
        await eventually(
          async () =>
            (await h.deps.db.selectFrom('jobs').select('id').where('id', '=', ids.oldDone).execute())
              .length === 0,
        );
      },
      { retentionMs: 2 * 86_400_000 },
    );
    const left = await h.deps.db
      .selectFrom('jobs')
      .select('id')
      .where('id', 'in', Object.values(ids))
      .execute();
    assert.deepEqual(new Set(left.map((r) => r.id)), new Set([ids.newDone, ids.oldQueued]));
  });

  it('GET /jobs/status counts jobs per status and shows the latest dead ones with their reasons', async () => {
    const type = `status.${rand()}`;
    const before = ok<Json>(await h.api('GET', '/api/v1/jobs/status'));
    const id = await add(type, {}, 1);
    await withWorker(
      {
        [type]: async () => {
          throw new Error('the relay said no');
        },
      },
      async () => {
        await eventually(async () => (await job(id)).status === 'dead');
      },
    );
    const status = ok<Json>(await h.api('GET', '/api/v1/jobs/status'));
    assert.equal(status.counts.dead, before.counts.dead + 1);
    assert.deepEqual(
      [status.recentDead[0].id, status.recentDead[0].type, status.recentDead[0].attempts],
      [id, type, 1],
    );
    assert.match(status.recentDead[0].lastError, /the relay said no/);
    assert.equal('payload' in status.recentDead[0], false, 'payloads are not listed');
  });
});
