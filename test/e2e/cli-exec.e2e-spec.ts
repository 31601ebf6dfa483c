import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJitCli } from '../setup/jit-cli.process';
import { TOKENS, TestBroker, startTestBroker } from '../setup/test-broker';

/** A command that prints what it was handed, as JSON on one line. */
const PRINT_ENV = `console.log(JSON.stringify({ pid: process.pid, grant: process.env.JIT_GRANT_ID, key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, session: process.env.AWS_SESSION_TOKEN, expiration: process.env.AWS_CREDENTIAL_EXPIRATION }))`;

const STS_REQUEST = ['--kind', 'aws.sts-credentials', '--target', 'roleArn=arn:aws:iam::123456789012:role/deploy', '--principal', 'workload:ci-run-4711', '--duration', 'PT20M', '--justification', 'deploy'];

describe('jit exec against a running broker', () => {
  let t: TestBroker;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestBroker();
    env = { JIT_URL: t.broker.url!, JIT_TOKEN: TOKENS.alice, NO_COLOR: '1' };
  });
  afterAll(() => t.close());

  const grantState = async (id: string) => (await t.http.get(`/v1/grants/${id}`).set(t.as('alice')).expect(200)).body as { state: string; endReason: string | null };
  const lineOf = (stdout: string) => JSON.parse(stdout.trim().split('\n')[0]) as Record<string, string | number | undefined>;

  it('should hand aws.sts-credentials to the command as AWS variables only, and revoke the grant when it exits', async () => {
    const run = runJitCli(['exec', ...STS_REQUEST, '--', process.execPath, '-e', PRINT_ENV], env);
    const { code, stdout, stderr } = await run.exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const seen = lineOf(stdout);
    expect(seen.key).toMatch(/^ASIALOCAL/);
    expect(seen.secret).toEqual(expect.any(String));
    expect(seen.session).toEqual(expect.any(String));
    expect(seen.expiration).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The secret is in the child's environment only: never in what the CLI prints.
    expect(stderr).not.toContain(String(seen.secret));
    expect(stderr).not.toContain(String(seen.session));
    // Revoked before the CLI exited: the CLI printed the revoked state it got back, and the broker says so.
    expect(stderr).toContain(`grant ${seen.grant} revoked`);
    await expect(grantState(String(seen.grant))).resolves.toMatchObject({ state: 'revoked', endReason: 'revoked' });
    const audit = await t.http.get('/v1/audit').query({ grantId: String(seen.grant), type: 'grant.revoke_requested' }).set(t.as('auditor')).expect(200);
    expect(audit.body.items[0]).toMatchObject({ actor: 'alice', data: { reason: `jit exec: ${process.execPath} exited with 0` } });
  });

  it("should pass a crashing command's exit code through and still revoke", async () => {
    const run = runJitCli(['exec', ...STS_REQUEST, '--', process.execPath, '-e', `${PRINT_ENV}; process.exit(3)`], env);
    const { code, stdout } = await run.exited;
    expect(code).toBe(3);
    await expect(grantState(String(lineOf(stdout).grant))).resolves.toMatchObject({ state: 'revoked' });
  });

  it('should forward SIGTERM to the command, wait for it, revoke, and exit 143', async () => {
    const run = runJitCli(['exec', ...STS_REQUEST, '--', process.execPath, '-e', `${PRINT_ENV}; setInterval(() => {}, 1000)`], env);
    await run.waitForStdout('"pid"');
    const seen = lineOf(run.stdout);
    run.child.kill('SIGTERM');
    const { code, stderr } = await run.exited;
    expect(code).toBe(143);
    // The command is gone (ESRCH), and the grant was revoked before the CLI exited.
    expect(() => process.kill(Number(seen.pid), 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(stderr).toContain(`grant ${seen.grant} revoked`);
    await expect(grantState(String(seen.grant))).resolves.toMatchObject({ state: 'revoked' });
    const audit = await t.http.get('/v1/audit').query({ grantId: String(seen.grant), type: 'grant.revoke_requested' }).set(t.as('auditor')).expect(200);
    expect(audit.body.items[0].data.reason).toBe(`jit exec: ${process.execPath} ended by SIGTERM (jit got SIGTERM)`);
  });

  it('should wait for active and the propagation delay for other kinds, then run the command without AWS keys', async () => {
    const run = runJitCli(
      [
        'exec',
        '--kind', 'aws.iam-policy',
        '--target', 'actions=["s3:PutObject"]',
        '--target', 'resources=["arn:aws:s3:::artifacts/*"]',
        '--principal', 'workload:arn:aws:iam::123456789012:role/ci-deployer',
        '--duration', '20m',
        '--propagation', '1s',
        '--', process.execPath, '-e', PRINT_ENV,
      ],
      env,
    );
    const { code, stdout, stderr } = await run.exited;
    expect(code).toBe(0);
    const seen = lineOf(stdout);
    expect(seen.key).toBeUndefined();
    expect(stderr.indexOf('waiting 1s for the cloud to propagate')).toBeLessThan(stderr.indexOf('running '));
    await expect(grantState(String(seen.grant))).resolves.toMatchObject({ state: 'revoked' });
  });

  it("should keep the CLI's own credentials from the command: broker token, token file and the CI's OIDC tokens", async () => {
    const credentials = {
      JIT_TOKEN_FILE: '/run/secrets/jit-token',
      JIT_OIDC_TOKEN_VAR: 'MY_JOB_TOKEN',
      MY_JOB_TOKEN: 'gitlab-id-token',
      JIT_ID_TOKEN: 'gitlab-default-id-token',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/token',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret',
      CI_JOB_JWT_V2: 'gitlab-job-jwt',
    };
    const names = ['JIT_TOKEN', ...Object.keys(credentials), 'JIT_URL', 'DEPLOY_ENV'];
    const printEnv = `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.filter((n) => n in process.env).map((n) => [n, process.env[n]]))))`;
    const { code, stdout } = await runJitCli(['exec', ...STS_REQUEST, '--', process.execPath, '-e', printEnv], { ...env, ...credentials, DEPLOY_ENV: 'prod' }).exited;
    expect(code).toBe(0);
    // JIT_TOKEN authenticated this very request, and none of them reaches the command; the rest of the environment does.
    expect(lineOf(stdout)).toEqual({ JIT_OIDC_TOKEN_VAR: 'MY_JOB_TOKEN', JIT_URL: env.JIT_URL, DEPLOY_ENV: 'prod' });
  });

  it('should revoke the grant it got when the command cannot be started, and exit as a shell does (127 not found, 126 not executable)', async () => {
    const notExecutable = join(mkdtempSync(join(tmpdir(), 'jit-exec-')), 'deploy.sh');
    writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    for (const [command, principal, exitCode] of [
      ['/nonexistent/deploy.sh', 'missing-command', 127],
      [notExecutable, 'not-executable', 126],
    ] as const) {
      const request = STS_REQUEST.map((a) => (a === 'workload:ci-run-4711' ? `workload:${principal}` : a));
      const { code, stderr } = await runJitCli(['exec', ...request, '--', command], env).exited;
      expect({ code, stderr }).toEqual({ code: exitCode, stderr: expect.stringContaining(`cannot run ${command}`) });
      const list = await t.http.get('/v1/grants').query({ principal }).set(t.as('alice')).expect(200);
      expect(list.body.items).toEqual([expect.objectContaining({ state: 'revoked' })]);
    }
  });

  it('should print a new grant\'s keys as credential_process JSON, and refuse other kinds', async () => {
    const { code, stdout } = await runJitCli(['credential-process', ...STS_REQUEST], env).exited;
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      Version: 1,
      AccessKeyId: expect.stringMatching(/^ASIALOCAL/),
      SecretAccessKey: expect.any(String),
      SessionToken: expect.any(String),
      Expiration: expect.stringMatching(/^\d{4}-/),
    });
    const other = await runJitCli(['credential-process', '--kind', 'aws.iam-policy', '-t', 'actions=s3:GetObject', '--principal', 'x', '-d', '20m'], env).exited;
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('needs a request of kind aws.sts-credentials');
  });

  it('should refuse a request the broker finds invalid with the field named and no stack trace (api error exit code)', async () => {
    const run = runJitCli(['exec', '--kind', 'aws.sts-credentials', '--target', 'roleArn=not-an-arn', '--principal', 'ci', '--duration', 'PT20M', '--', 'true'], env);
    const { code, stderr } = await run.exited;
    expect(code).toBe(12);
    expect(stderr).toContain('target.roleArn: must be an IAM role ARN');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
