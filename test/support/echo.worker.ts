import { serveThreadRequests } from '../../src/threads.ts';

/** A worker for test/threads.test.ts: doubles numbers, fails on 'fail', ends its thread on 'exit'. */
serveThreadRequests(async (request: number | 'fail' | 'exit') => {
  if (request === 'exit') process.exit(3);
  if (request === 'fail') throw new Error('asked to fail');
  return { result: request * 2 };
});
