import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureConsoleBuilt } from '../../../apps/sandbox/src/console-build';
import { BrokerProcess, freePort, spawnBroker } from '../../setup/broker-process';

const ROOT = join(__dirname, '..', '..', '..');


export interface ConsoleBroker {
  /** http://127.0.0.1:PORT: the sandbox's broker, the console at /console/. */
  url: string;
  /** The simulated company IdP's issuer URL. */
  idp: string;
  /** The tokens the sandbox printed, by banner label; `approver` and `approver2` are sandbox-approver-1 and -2. */
  tokens: Record<'admin' | 'admin2' | 'requester' | 'auditor' | 'developer' | 'approver' | 'approver2' | 'emergency', string>;
  output(): string;
  stop(): Promise<void>;
}

/** A token the sandbox printed in its banner, on the line whose label and subject are given. */
function bannerToken(output: string, label: string, subject?: string): string {
  const line = output.split('\n').find((l) => new RegExp(`^  ${label} +\\S+`).test(l) && (!subject || l.includes(`subject ${subject}`)));
  if (!line) throw new Error(`no ${label} token in the sandbox's banner:\n${output}`);
  return line.trim().split(/\s+/)[1];
}

/**
 * `npm run sandbox` as a new user starts it (simulators, the company IdP, the sandbox's rules and
 * tokens), with the console built if stale, on free ports and a fresh data folder. `env` adds to the
 * sandbox's environment (e.g. JIT_MIN_DURATION).
 */
export async function startConsoleBroker(env: Record<string, string> = {}): Promise<ConsoleBroker> {
  await ensureConsoleBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'jit-console-browser-'));
  const idpPort = await freePort();
  // The sandbox's own rules, with the IdP on this run's port.
  const rules = readFileSync(join(ROOT, 'examples', 'sandbox.rules.yaml'), 'utf8').replace('issuer: http://127.0.0.1:8099', `issuer: http://127.0.0.1:${idpPort}`);
  if (!rules.includes(`127.0.0.1:${idpPort}`)) throw new Error('examples/sandbox.rules.yaml no longer names the corp issuer at http://127.0.0.1:8099');
  writeFileSync(join(dir, 'rules.yaml'), rules);
  let sandbox: BrokerProcess;
  try {
    sandbox = await spawnBroker(
      'apps/sandbox/src/main.ts',
      { JIT_DATA_DIR: join(dir, 'data'), JIT_SANDBOX_IDP_PORT: String(idpPort), JIT_POLICY_FILE: join(dir, 'rules.yaml'), JIT_SANDBOX_CLOUDS: '', ...env },
      // A shared CI machine under load can take minutes to start node, the database and the simulators.
      420_000,
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  for (let waited = 0; !sandbox.output().includes('Ctrl-C stops the broker'); waited += 100) {
    if (waited > 60_000) throw new Error(`no banner from the sandbox:\n${sandbox.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const out = sandbox.output();
  return {
    url: sandbox.url,
    idp: `http://127.0.0.1:${idpPort}`,
    tokens: {
      admin: bannerToken(out, 'admin'),
      admin2: bannerToken(out, 'admin', 'sandbox-admin-2'),
      requester: bannerToken(out, 'requester'),
      auditor: bannerToken(out, 'auditor'),
      developer: bannerToken(out, 'developer'),
      approver: bannerToken(out, 'approver', 'sandbox-approver-1'),
      approver2: bannerToken(out, 'approver', 'sandbox-approver-2'),
      emergency: bannerToken(out, 'emergency'),
    },
    output: () => sandbox.output(),
    async stop() {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
