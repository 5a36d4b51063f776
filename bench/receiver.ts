import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver on loopback for the benchmarks: answers 204 to every POST, counts them by
 * event type (the JSON body's `type`), and tells when a count is reached.
 */
export class BenchReceiver {
  readonly counts = new Map<string, number>();
  total = 0;
  private server: Server | null = null;
  private waiters: { n: number; resolve: () => void }[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const type = (JSON.parse(Buffer.concat(chunks).toString()) as { type: string }).type;
        this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
        this.total++;
        res.writeHead(204).end();
        this.waiters = this.waiters.filter((w) => {
          if (this.total < w.n) return true;
          w.resolve();
          return false;
        });
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Resolves once `n` requests have arrived in all. */
  reached(n: number): Promise<void> {
    if (this.total >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
