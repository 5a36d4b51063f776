import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

type Answer = { status: number; body?: string; headers?: Record<string, string> };

/**
 * An HTTP receiver on loopback for webhook tests: records every request, and answers with the next
 * answer scripted for its path (then `fallback`, 200 by default).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  fallback: Answer = { status: 200, body: 'ok' };
  /** Paths whose requests are recorded and never answered (a receiver that hangs). */
  readonly holding = new Set<string>();
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        if (this.holding.has(req.url ?? '/')) return;
        const answer = this.scripts.get(req.url ?? '/')?.shift() ?? this.fallback;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next answers to requests for `path`, in order. */
  answer(path: string, ...answers: Answer[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...answers]);
  }

  /** Requests whose JSON body has this event type. */
  ofType(
    type: string,
  ): (Received & { json: { type: string; timestamp: string; data: Record<string, unknown> } })[] {
    return this.received.map((r) => ({ ...r, json: JSON.parse(r.body) })).filter((r) => r.json.type === type);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
