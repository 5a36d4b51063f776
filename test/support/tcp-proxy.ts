import net from 'node:net';

/**
 * A TCP proxy on loopback between Admit and its database, which a test cuts (every connection
 * reset, new ones refused: the database is gone) and restores (it is back on the same port).
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** The database goes away: open connections are reset, new ones refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // A socket whose end() is still being sent cannot be reset: libuv refuses (EINVAL) and Node
    // then never closes the handle, so the process spins at exit. Those are destroyed instead.
    for (const s of this.sockets) {
      if (s.writableEnded) s.destroy();
      else s.resetAndDestroy();
    }
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The database is back, on the same port. */
  restore = () => this.start(this.port);

  stop = () => this.cut();
}
