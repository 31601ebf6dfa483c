import { AddressInfo, Server, Socket, createServer, connect } from 'node:net';

/**
 * A TCP proxy in front of a simulator that sees what the simulator's server would see of a
 * cancelled call: a connection the client closed while a request on it was unanswered (bytes
 * went up, none came back since). It works for HTTP and HTTPS alike, since it never reads the
 * bytes. (The simulators have no hook for this; a test puts the proxy between adapter and simulator.)
 */
export class ConnectionWatchProxy {
  /** Connections the client closed before any answer arrived. */
  closedUnanswered = 0;
  /** Answers that came back (counted at their first bytes). */
  answered = 0;
  /** Requests sent and not answered yet, on connections still open: calls in flight. */
  waiting = 0;

  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
  ) {}

  /** Listens on 127.0.0.1 and forwards every connection to `target` (`http://host:port`). */
  static async start(target: string): Promise<ConnectionWatchProxy> {
    const url = new URL(target);
    const sockets = new Set<Socket>();
    let proxy: ConnectionWatchProxy | undefined;
    const server = createServer((client) => {
      const upstream = connect(Number(url.port), url.hostname);
      sockets.add(client).add(upstream);
      // A request went up and no answer has come back yet (keep-alive connections carry several).
      let waiting = false;
      client.on('data', (chunk) => {
        if (!waiting && proxy) proxy.waiting++;
        waiting = true;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (waiting && proxy) {
          proxy.answered++;
          proxy.waiting--;
        }
        waiting = false;
        client.write(chunk);
      });
      client.on('close', () => {
        if (waiting && proxy) {
          proxy.closedUnanswered++;
          proxy.waiting--;
        }
        waiting = false;
        upstream.destroy();
        sockets.delete(client);
      });
      upstream.on('close', () => {
        client.destroy();
        sockets.delete(upstream);
      });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new ConnectionWatchProxy(server, sockets);
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
