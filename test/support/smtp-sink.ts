import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/**
 * A real SMTP server on loopback for tests (smtp-server from npm). It keeps every accepted message
 * raw and parsed, and can be told to answer with 4xx or 5xx, to refuse credentials, or to go away
 * and come back on the same port.
 */
export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
  headers: Map<string, string>;
  text: string;
  html: string;
}

type Reply = { code: number; message: string };

export class SmtpSink {
  readonly messages: ReceivedMessage[] = [];
  private server: SMTPServer | undefined;
  private replies: Reply[] = [];
  private always: Reply | null = null;
  private delayMs = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;
  /** Connections open now, and the most open at once. */
  open = 0;
  mostOpen = 0;
  /** Connections opened since start, whatever came of them. */
  connections = 0;

  constructor(private readonly auth: { user: string; pass: string } | null = null) {}

  get url(): string {
    return this.auth
      ? `smtp://${this.auth.user}:${this.auth.pass}@127.0.0.1:${this.port}`
      : `smtp://127.0.0.1:${this.port}`;
  }

  /** The next `n` messages get this reply instead of 250. */
  failNext(n: number, code: number, message: string): void {
    for (let i = 0; i < n; i++) this.replies.push({ code, message });
  }

  /** Each message's reply comes `ms` later (a slow mail server; 0: at once). */
  delayEach(ms: number): void {
    this.delayMs = ms;
  }

  /** Every message gets this reply (null: accept again). */
  failAll(reply: Reply | null): void {
    this.always = reply;
  }

  async start(port = 0): Promise<void> {
    const options: SMTPServerOptions = {
      authOptional: this.auth === null,
      disabledCommands: this.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      allowInsecureAuth: true,
      logger: false,
      size: 10 * 1024 * 1024,
      closeTimeout: 200,
      onConnect: (_session, cb) => {
        this.connections++;
        this.mostOpen = Math.max(this.mostOpen, ++this.open);
        cb();
      },
      onClose: () => {
        this.open--;
      },
      onAuth: (auth, _session, cb) => {
        if (this.auth && auth.username === this.auth.user && auth.password === this.auth.pass)
          return cb(null, { user: auth.username });
        return cb(
          Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }),
        );
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => (this.delayMs > 0 ? setTimeout(answer, this.delayMs) : answer()));
        const answer = () => {
          const reply = this.replies.shift() ?? this.always;
          if (reply) return cb(Object.assign(new Error(reply.message), { responseCode: reply.code }));
          const raw = Buffer.concat(chunks).toString('utf8');
          this.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            ...parseMessage(raw),
          });
          this.notify();
          cb();
        };
      },
    };
    this.server = new SMTPServer(options);
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    // A client that dies mid-conversation (the kill -9 test) resets its socket; that is not an error
    // of the sink, and an unhandled 'error' event would end the test process.
    this.server.on('error', () => {});
    this.port = (this.server.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `n` messages in all have arrived, or rejects after `ms`. */
  waitFor(n: number, ms = 20_000): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.messages.length} of ${n} messages arrived in ${ms} ms`)),
        ms,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.messages.length < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

/** Enough of RFC 5322/2045/2047 to read what nodemailer writes: headers, text and html parts. */
export function parseMessage(raw: string): { headers: Map<string, string>; text: string; html: string } {
  const { headers, body } = splitHeaders(raw);
  let text = '';
  let html = '';
  const visit = (h: Map<string, string>, b: string) => {
    const type = h.get('content-type') ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (/^multipart\//i.test(type) && boundary) {
      for (const part of b.split(`--${boundary}`).slice(1)) {
        if (part.startsWith('--')) break;
        const p = splitHeaders(part.replace(/^\r?\n/, ''));
        visit(p.headers, p.body);
      }
      return;
    }
    const decoded = decodeBody(b, h.get('content-transfer-encoding') ?? '7bit');
    if (/^text\/html/i.test(type)) html = decoded;
    else if (/^text\/plain/i.test(type)) text = decoded;
  };
  visit(headers, body);
  return { headers, text, html };
}

function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), decodeWords(line.slice(i + 1).trim()));
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string): string {
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_m, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}
