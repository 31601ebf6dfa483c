import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort } from './free-port';

export { freePort };

const ROOT = join(__dirname, '..', '..');

export interface BrokerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGKILL, as `kill -9`: no shutdown hook runs. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the clean exit. */
  stop(): Promise<number | null>;
}

/**
 * Runs the broker as its own node process (`node -r @swc-node/register <script>`), waits until
 * /health answers, and keeps its output for the failure message.
 */
export async function spawnBroker(script: string, env: Record<string, string>, bootTimeoutMs = 60_000): Promise<BrokerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--experimental-vm-modules', '-r', '@swc-node/register', script], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + bootTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`broker exited during boot:\n${out}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`broker did not answer /health within ${bootTimeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
