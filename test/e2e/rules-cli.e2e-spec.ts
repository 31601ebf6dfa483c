import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** `npm run rules -- <args>`, as a rules repository's CI would run it. */
function rules(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', '@swc-node/register', 'apps/broker/src/cli/rules.ts', ...args], { cwd: ROOT }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('npm run rules: checking a rules file and its example requests offline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit-rules-cli-'));

  it('should pass the sandbox rules and every example case shipped with them', async () => {
    const res = await rules('test', 'examples/sandbox.rules.yaml', 'examples/sandbox.rules.cases.yaml');
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^examples\/sandbox\.rules\.yaml: valid, 3 rules, 1 deny-list entries, 2 OIDC issuers, version [0-9a-f]{12}\n/);
    expect(res.stdout).toMatch(/\n16 passed, 0 failed\n$/);
    // The GitHub rule matches the immutable ids: the same names on another repository or owner do not pass.
    expect(res.stdout).toContain('  ok    a repository that took over the name acme/app after a rename is not the same repository\n');
    expect(res.code).toBe(0);
  });

  it('should exit 1 with file:line:column, field and message for an invalid rules file', async () => {
    const bad = join(dir, 'bad.rules.yaml');
    writeFileSync(bad, readFileSync(join(ROOT, 'examples/sandbox.rules.yaml'), 'utf8').replace('maxDuration: PT8H', 'maxDuration: eight hours'));
    const res = await rules('check', bad);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ rules\\.1\\.maxDuration: must be a positive ISO-8601 duration`));
  });

  it('should exit 1 and show the decision when a case expects something else', async () => {
    const cases = join(dir, 'cases.yaml');
    writeFileSync(
      cases,
      `cases:
  - name: someone hopes iam:* is allowed
    requester: { subject: sandbox-pipeline }
    request:
      cloud: aws
      principal: { type: workload, id: "arn:aws:iam::123456789012:role/ci-deployer" }
      target: { kind: aws.iam-policy, actions: ["iam:*"], resources: ["*"] }
      duration: PT10M
    expect: { effect: allow }
`,
    );
    const res = await rules('test', 'examples/sandbox.rules.yaml', cases);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('  FAIL  someone hopes iam:* is allowed\n        effect: expected "allow", got "deny"\n        decision: deny: IAM and identity administration');
    expect(res.stdout).toMatch(/\n0 passed, 1 failed\n$/);
  });

  it('should exit 2 with its usage when misused, and 1 for a missing file', async () => {
    const usage = await rules('lint');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^usage:/);
    const missing = await rules('check', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ENOENT/);
  });
});
