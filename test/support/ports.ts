import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (for servers a test starts in a child process). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
