import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKENS, TestBroker, startTestBroker } from '../setup/test-broker';

const ROOT = join(__dirname, '..', '..');
/** The build and cold starts on a loaded 2-core machine. */
const TIMEOUT_MS = 240_000;

/** `node <args>` with nothing of jest's node options; its code, stdout and stderr. */
function node(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/**
 * The `jit` bin as `npx jit` runs it after `npm ci && npm run build`: apps/cli/bin/jit.js and the
 * compiled CLI beside it in dist/ (built into a temporary folder, not the checkout's dist/).
 */
describe('the compiled jit CLI (npm run build, then the bin)', () => {
  let dir: string;
  let bin: string;
  let t: TestBroker;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jit-compiled-cli-'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    mkdirSync(join(dir, 'apps/cli/bin'), { recursive: true });
    bin = join(dir, 'apps/cli/bin/jit.js');
    cpSync(join(ROOT, 'apps/cli/bin/jit.js'), bin);
    t = await startTestBroker();
  }, TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should say what to do when there is no build', async () => {
    const run = await node([bin, 'ls']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('run `npm run build` first');
  }, TIMEOUT_MS);

  it('should run jit exec and jit rules from the build', async () => {
    const build = await node(['scripts/build.mjs', '--out-dir', join(dir, 'dist')]);
    expect(build.code).toBe(0);
    const exec = await node(
      [bin, 'exec', '--kind', 'aws.sts-credentials', '-t', 'roleArn=arn:aws:iam::123456789012:role/deploy', '--principal', 'compiled', '-d', 'PT20M', '--', process.execPath, '-e', 'console.log(process.env.JIT_GRANT_ID + " " + process.env.AWS_ACCESS_KEY_ID); process.exit(4)'],
      { JIT_URL: t.broker.url!, JIT_TOKEN: TOKENS.alice },
    );
    expect(exec.code).toBe(4);
    const [grantId, key] = exec.stdout.trim().split(' ');
    expect(key).toMatch(/^ASIALOCAL/);
    const grant = await t.http.get(`/v1/grants/${grantId}`).set(t.as('alice')).expect(200);
    expect(grant.body.state).toBe('revoked');
    // The compiled CLI finds the compiled rules checker beside it.
    const rules = await node([bin, 'rules', 'test', 'examples/sandbox.rules.yaml', 'examples/sandbox.rules.cases.yaml']);
    expect(rules.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(rules.code).toBe(0);
  }, TIMEOUT_MS);
});
