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
