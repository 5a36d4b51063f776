import { serveThreadRequests } from '../../src/threads.ts';

/**
 * A worker for test/threads.test.ts: doubles numbers (answering in a random order: each waits up to
 * 5 ms, and numbers from 1000 on wait 300 ms), fails on 'fail', ends its thread on 'exit'.
 */
serveThreadRequests(async (request: number | 'fail' | 'exit') => {
  if (request === 'exit') process.exit(3);
  if (request === 'fail') throw new Error('asked to fail');
  await new Promise((resolve) => setTimeout(resolve, request >= 1000 ? 300 : Math.random() * 5));
  return { result: request * 2 };
});
