import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
/** Where `npm run build:console` writes the console, which the sandbox's broker serves at /console. */
export const CONSOLE_DIR = join(ROOT, 'dist', 'console');
const BUILT = join(CONSOLE_DIR, 'index.html');
/** What the console's build reads: a change to any of these makes dist/console stale. */
const SOURCES = ['apps/console', 'libs/client/src', 'libs/domain/src'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).filter((n) => n !== 'node_modules').map((n) => newestMtime(join(path, n))));
}

/**
 * Builds the console (`npm run build:console`) unless dist/console is newer than its sources, so
 * `npm ci && npm run sandbox` serves it on a fresh checkout and after a change. One builder at a
 * time across processes (sandboxes and browser tests started together): a lock file in the temp
 * folder, taken over when older than ten minutes (left by a killed run). `onBuild` is told before
 * a build starts, which takes several seconds.
 */
export async function ensureConsoleBuilt(onBuild: () => void = () => undefined): Promise<void> {
  const lock = join(tmpdir(), 'jit-console-build.lock');
  for (let waited = 0; ; waited += 200) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 600_000) unlinkSync(lock);
      if (waited > 600_000) throw new Error(`the console build lock ${lock} is held`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const sources = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
    if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= sources) return;
    onBuild();
    const run = spawnSync('npm', ['run', '--silent', 'build:console'], { cwd: ROOT, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`npm run build:console failed:\n${run.stdout}\n${run.stderr}`);
  } finally {
    unlinkSync(lock);
  }
}
