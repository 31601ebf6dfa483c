import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerProcess, freePort, spawnBroker } from '../../setup/broker-process';

const ROOT = join(__dirname, '..', '..', '..');
const BUILT = join(ROOT, 'dist', 'console', 'index.html');
/** What the console's build reads: a change to any of these makes dist/console stale. */
const SOURCES = ['apps/console', 'libs/client/src', 'libs/domain/src'];

export interface ConsoleBroker {
  /** http://127.0.0.1:PORT: the sandbox's broker, the console at /console/. */
  url: string;
  /** The simulated company IdP's issuer URL. */
  idp: string;
  /** The tokens the sandbox printed, by banner label; `approver` and `approver2` are sandbox-approver-1 and -2. */
  tokens: Record<'admin' | 'requester' | 'auditor' | 'developer' | 'approver' | 'approver2' | 'emergency', string>;
  output(): string;
  stop(): Promise<void>;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).filter((n) => n !== 'node_modules').map((n) => newestMtime(join(path, n))));
}

/** Builds the console (`npm run build:console`) unless dist/console is newer than its sources; one builder at a time. */
export async function ensureConsoleBuilt(): Promise<void> {
  const lock = join(tmpdir(), 'jit-console-build.lock');
  for (let waited = 0; ; waited += 200) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      // Another test file builds; a lock older than ten minutes was left by a killed run.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 600_000) unlinkSync(lock);
      if (waited > 600_000) throw new Error(`the console build lock ${lock} is held`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const sources = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
    if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= sources) return;
    const run = spawnSync('npm', ['run', '--silent', 'build:console'], { cwd: ROOT, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`npm run build:console failed:\n${run.stdout}\n${run.stderr}`);
  } finally {
    unlinkSync(lock);
  }
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
