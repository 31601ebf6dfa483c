import { IncomingMessage, Server as HttpServer, ServerResponse, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';

/** Answers one request; a rejection drops the connection (the simulator's own error envelope is its handler's job). */
export type SimHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface LoopbackServerOptions {
  /** Names the simulator in the error thrown for a host that is not loopback. */
  name: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The loopback names this simulator accepts; the first is the default host. */
  hosts: readonly string[];
  /** Serve HTTPS with this key and certificate (the Azure SDKs send bearer tokens over HTTPS only). */
  tls?: { keyPem: string; certPem: string };
}

export interface LoopbackServer {
  readonly host: string;
  readonly port: number;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/**
 * Listens on a loopback address only, never a public interface, and hands each request to the
 * handler that `handler()` returns once the server is up (so a simulator can be built from the
 * port it got before its first request is answered).
 */
export async function startLoopbackServer(options: LoopbackServerOptions, handler: () => SimHandler): Promise<LoopbackServer> {
  const host = options.host ?? options.hosts[0];
  if (!options.hosts.includes(host)) throw new Error(`the ${options.name} simulator listens on loopback only (${options.hosts.join(', ')})`);
  let handle: SimHandler | undefined;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle!(req, res).catch((e: unknown) => res.destroy(e instanceof Error ? e : new Error(String(e))));
  };
  const server: HttpServer = options.tls ? createHttpsServer({ key: options.tls.keyPem, cert: options.tls.certPem }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  handle = handler();
  return {
    host,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
