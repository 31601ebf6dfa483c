import { AddressInfo, Server, Socket, connect, createServer } from 'node:net';

/** Where a CuttableProxy forwards to: a TCP address, or a Unix socket (the embedded database's). */
export type ProxyTarget = { host: string; port: number } | { path: string };

/**
 * A TCP proxy on 127.0.0.1 that a test can cut and restore, to stop a database (or anything
 * else) as its clients see it without stopping the server others share: `cut()` drops every
 * connection and stops listening, so new ones are refused, as with a stopped PostgreSQL;
 * `restore()` listens again on the same port.
 */
export class CuttableProxy {
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(private readonly target: ProxyTarget) {
    this.server = this.newServer();
  }

  static async start(target: ProxyTarget): Promise<CuttableProxy> {
    const proxy = new CuttableProxy(target);
    await proxy.listen(0);
    return proxy;
  }

  /** The port it listens on (the same after a restore). */
  get listenPort(): number {
    return this.port;
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    this.server = this.newServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.cut();
  }

  private newServer(): Server {
    return createServer((client) => {
      const upstream = 'path' in this.target ? connect(this.target.path) : connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', drop).on('error', drop);
      upstream.on('close', drop).on('error', drop);
    });
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }
}
