import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * A port nobody listens on right now on 127.0.0.1 (the kernel's pick for port 0), for a child
 * process that must be told its port up front. Shared by test/setup and bench/.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}
