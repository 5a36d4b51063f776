import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThreadPool } from '../src/threads.ts';

describe('ThreadPool', () => {
  const entry = new URL('./support/echo.worker.ts', import.meta.url);

  it('answers each request from a thread, and passes errors back', async () => {
    const pool = new ThreadPool<number | 'fail' | 'exit', number>(entry, 2);
    try {
      assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((n) => pool.run(n))), [2, 4, 6, 8, 10]);
      await assert.rejects(pool.run('fail'), /asked to fail/);
      assert.equal(await pool.run(7), 14);
    } finally {
      await pool.close();
    }
  });

  it('gives each caller its own answer when request ids are reused, wave after wave', {
    timeout: 10_000,
  }, async () => {
    const pool = new ThreadPool<number | 'fail' | 'exit', number>(entry, 2);
    try {
      for (let wave = 0; wave < 5; wave++) {
        const asked = Array.from({ length: 50 }, (_, i) => wave * 100 + i);
        assert.deepEqual(
          await Promise.all(asked.map((n) => pool.run(n))),
          asked.map((n) => n * 2),
        );
      }
    } finally {
      await pool.close();
    }
  });

  it('when one of two threads dies, only its requests fail', async () => {
    const pool = new ThreadPool<number | 'fail' | 'exit', number>(entry, 2);
    try {
      // A request goes to the thread with fewer in flight (the first on a tie): 'exit' and 2 to the
      // first thread; 1000 and 1001 to the second, still in flight (300 ms) when the first dies.
      const results = await Promise.allSettled([
        pool.run('exit'),
        pool.run(1000),
        pool.run(2),
        pool.run(1001),
      ]);
      assert.equal(results[0]?.status, 'rejected');
      assert.deepEqual(results[1], { status: 'fulfilled', value: 2000 });
      assert.deepEqual(results[3], { status: 'fulfilled', value: 2002 });
      assert.deepEqual(await pool.run(8), 16);
    } finally {
      await pool.close();
    }
  });

  it('replaces a thread that dies: its request fails, the next ones are answered', async () => {
    const pool = new ThreadPool<number | 'fail' | 'exit', number>(entry, 1);
    try {
      await assert.rejects(pool.run('exit'), /exited \(code 3\)/);
      assert.deepEqual(await Promise.all([pool.run(20), pool.run(21)]), [40, 42]);
    } finally {
      await pool.close();
    }
  });
});
