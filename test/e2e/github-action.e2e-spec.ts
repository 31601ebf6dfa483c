import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalOidcIssuer, startLocalOidcIssuer } from '@jit/testing';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, startTestBroker } from '../setup/test-broker';

const ROOT = join(__dirname, '..', '..');
const ACTION = join(ROOT, 'integrations', 'github-action');
const REQUEST_TOKEN = 'actions-runtime-request-token-0123456789';
const JOB_SUBJECT = 'repo:acme/app:ref:refs/heads/main';
const DEPLOYER = 'arn:aws:iam::123456789012:role/deployer';

const rules = (issuer: string) => `
version: 1
groups:
  sre: []
issuers:
  - name: github
    issuer: ${issuer}
    audience: jit-deploy
rules:
  - name: ci-sts
    requesters:
      - issuer: github
        claims: { repository: acme/app, ref: refs/heads/main }
    targets:
      - { kind: aws.sts-credentials, roleArns: ["${DEPLOYER}"] }
    maxDuration: PT1H
    approval: auto
  - name: ci-storage-needs-a-human
    requesters:
      - issuer: github
        claims: { repository: acme/app }
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/storage.*"], resources: ["projects/acme-prod"] }
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre] }
`;

/** Reads a GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV file (`name<<delimiter` blocks). */
function fileCommands(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]);
    if (!m) continue;
    const value: string[] = [];
    for (i += 1; lines[i] !== m[2]; i += 1) value.push(lines[i]);
    out[m[1]] = value.join('\n');
  }
  return out;
}

interface StepRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  env: Record<string, string>;
}

describe('GitHub Action: the bundled entry points in a simulated Actions environment against a running broker', () => {
  let t: TestBroker;
  let oidc: LocalOidcIssuer;
  let tokenEndpoint: Server;
  const audiences: string[] = [];

  beforeAll(async () => {
    oidc = await startLocalOidcIssuer();
    // The runner's token service: ACTIONS_ID_TOKEN_REQUEST_URL answers {"value": <the job's OIDC token>}.
    tokenEndpoint = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}`) return void res.writeHead(401).end();
      const audience = url.searchParams.get('audience') ?? 'https://github.com/acme';
      audiences.push(audience);
      void oidc
        .sign({ sub: JOB_SUBJECT, repository: 'acme/app', ref: 'refs/heads/main', run_id: '4242', job_workflow_ref: 'acme/app/.github/workflows/deploy.yml@refs/heads/main' }, { audience })
        .then((value) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 1, value })));
    });
    await new Promise<void>((r) => tokenEndpoint.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'jit-gha-'));
    writeFileSync(join(dir, 'rules.yaml'), rules(oidc.issuer));
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml'), JIT_POLICY_RELOAD_INTERVAL: 'PT1H' });
  });

  afterAll(async () => {
    await t?.close();
    await oidc?.close();
    await new Promise((r) => tokenEndpoint?.close(r));
  });

  /** Runs dist/<entry>.js as the runner does: inputs as INPUT_<NAME>, fresh command files, the token service's variables. */
  async function runStep(entry: 'main' | 'post', inputs: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<StepRun> {
    const dir = mkdtempSync(join(tmpdir(), 'jit-gha-step-'));
    const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STATE: join(dir, 'state'), GITHUB_ENV: join(dir, 'env') };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...files,
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_JOB: 'deploy',
      GITHUB_ACTION: `jit-${Math.random().toString(36).slice(2)}`,
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(tokenEndpoint.address() as AddressInfo).port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      'INPUT_BROKER-URL': t.broker.url!,
      INPUT_AUDIENCE: 'jit-deploy',
      'INPUT_WAIT-TIMEOUT': '15m',
      INPUT_PROPAGATION: 'false',
      'INPUT_EXPORT-CREDENTIALS': 'true',
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
      ...extraEnv,
    };
    const child = spawn(process.execPath, [join(ACTION, 'dist', `${entry}.js`)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr, outputs: fileCommands(files.GITHUB_OUTPUT), state: fileCommands(files.GITHUB_STATE), env: fileCommands(files.GITHUB_ENV) };
  }

  const grant = async (id: string) => (await t.http.get(`/v1/grants/${id}`).set(t.as('admin')).expect(200)).body as { state: string; requestedBy: string; endReason: string | null };

  it('should have committed the bundle that npm run build:action builds from the sources now', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'jit-gha-build-'));
    await promisify(execFile)(process.execPath, [join(ACTION, 'build.mjs'), fresh], { cwd: ROOT });
    for (const entry of ['main.js', 'post.js']) {
      const same = readFileSync(join(fresh, entry)).equals(readFileSync(join(ACTION, 'dist', entry)));
      if (!same) throw new Error(`integrations/github-action/dist/${entry} is stale: run npm run build:action and commit it`);
    }
    expect(readFileSync(join(ACTION, 'action.yml'), 'utf8')).toMatch(/using: node24\n\s+main: dist\/main\.js\n\s+post: dist\/post\.js/);
  });

  it('should get STS credentials with the job OIDC token, mask them, export them to later steps, and revoke in the post step', async () => {
    const main = await runStep('main', {
      kind: 'aws.sts-credentials',
      principal: 'workload:deploy-4242',
      target: `roleArn=${DEPLOYER}\n`,
      duration: '15m',
      justification: 'deploy acme/app 4242',
    });
    expect({ code: main.code, stderr: main.stderr }).toEqual({ code: 0, stderr: '' });
    expect(audiences.at(-1)).toBe('jit-deploy');
    const id = main.outputs['grant-id'];
    expect(main.outputs).toMatchObject({ 'grant-id': id, state: 'active' });
    expect(Date.parse(main.outputs['expires-at'])).toBeGreaterThan(Date.now());
    expect(main.state).toEqual({ 'grant-id': id });

    const secrets = [main.env.AWS_ACCESS_KEY_ID, main.env.AWS_SECRET_ACCESS_KEY, main.env.AWS_SESSION_TOKEN];
    expect(secrets.every((s) => typeof s === 'string' && s.length > 0)).toBe(true);
    const lines = main.stdout.split('\n');
    for (const secret of secrets) {
      // Masked first, and never written to the log otherwise.
      expect(lines.findIndex((l) => l.includes(secret))).toBe(lines.indexOf(`::add-mask::${secret}`));
      expect(lines.filter((l) => l.includes(secret))).toHaveLength(1);
    }
    expect(await grant(id)).toMatchObject({ state: 'active', requestedBy: `github:${JOB_SUBJECT}` });

    const post = await runStep('post', {}, { 'STATE_grant-id': id });
    expect({ code: post.code, stderr: post.stderr }).toEqual({ code: 0, stderr: '' });
    expect(post.stdout).toContain(`grant ${id}: revoked`);
    expect((await grant(id)).state).toBe('revoked');
    const events = (await t.http.get(`/v1/audit?grantId=${id}`).set(t.as('auditor')).expect(200)).body.items as { type: string; actor: string }[];
    expect(events.find((e) => e.type === 'grant.revoke_requested')?.actor).toBe(`github:${JOB_SUBJECT}`);
  });

  it('should wait while a human approves, then succeed', async () => {
    const running = runStep('main', {
      kind: 'gcp.iam-binding',
      principal: 'workload:serviceAccount:deploy@acme-prod.iam.gserviceaccount.com',
      target: 'resource=projects/acme-prod\nrole=roles/storage.objectAdmin',
      duration: 'PT20M',
      justification: 'upload the release artifacts',
    });
    const pending = await pollUntil(async () => {
      const items = (await t.http.get('/v1/grants?state=pending_approval&cloud=gcp').set(t.as('admin')).expect(200)).body.items as { id: string }[];
      return items[0];
    }, 30_000, 200);
    await t.http.post(`/v1/grants/${pending.id}/approve`).set(t.as('approver')).send({}).expect(200);
    const main = await running;
    expect(main.code).toBe(0);
    expect(main.outputs).toMatchObject({ 'grant-id': pending.id, state: 'active' });
    expect(main.stdout).toContain('approvals: 0 of 1 (from sre)');
    expect(main.env).toEqual({});
    await runStep('post', {}, { 'STATE_grant-id': pending.id });
    expect((await grant(pending.id)).state).toBe('revoked');
  });

  it('should fail the step when approval does not come within wait-timeout, and the post step withdraws the request', async () => {
    // The request from a file, as a repository keeps it next to its workflow; inputs add the justification.
    const requestFile = join(mkdtempSync(join(tmpdir(), 'jit-gha-req-')), 'read.yaml');
    writeFileSync(
      requestFile,
      'cloud: gcp\nprincipal: { type: workload, id: "serviceAccount:deploy@acme-prod.iam.gserviceaccount.com" }\n' +
        'target: { kind: gcp.iam-binding, resource: projects/acme-prod, role: roles/storage.objectViewer }\nduration: PT20M\n',
    );
    const main = await runStep('main', { 'request-file': requestFile, justification: 'read the release artifacts', 'wait-timeout': '1' });
    expect(main.code).toBe(1);
    const id = main.state['grant-id'];
    expect(main.outputs).toMatchObject({ 'grant-id': id, state: 'pending_approval' });
    expect(main.stdout).toMatch(/::error::grant .* is not active: still pending_approval after 1 s/);
    const post = await runStep('post', {}, { 'STATE_grant-id': id });
    expect(post.code).toBe(0);
    expect(await grant(id)).toMatchObject({ state: 'denied', endReason: 'withdrawn' });
  });

  it('should fail clearly, requesting nothing, on bad input, without id-token permission, and when the rules deny', async () => {
    const missing = await runStep('main', { kind: 'aws.sts-credentials', principal: 'workload:x', target: `roleArn=${DEPLOYER}` });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('::error::the request needs --duration');
    expect(missing.state).toEqual({});

    const badField = await runStep('main', { kind: 'aws.sts-credentials', principal: 'workload:x', target: 'roleArn=not-an-arn', duration: '15m' });
    expect(badField.code).toBe(1);
    expect(badField.stdout).toMatch(/::error::the broker answered 400 .*target\.roleArn/);

    const noPermission = await runStep('main', { kind: 'aws.sts-credentials', principal: 'workload:x', target: `roleArn=${DEPLOYER}`, duration: '15m' }, { ACTIONS_ID_TOKEN_REQUEST_URL: '' });
    expect(noPermission.code).toBe(1);
    expect(noPermission.stdout).toContain('permissions: id-token: write');

    // The runner's token service refuses (a job without id-token: write gets no token): the hint says what to add.
    const refused = await runStep('main', { kind: 'aws.sts-credentials', principal: 'workload:x', target: `roleArn=${DEPLOYER}`, duration: '15m' }, { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/::error::.*the token endpoint answered 401 \(does the job have `permissions: id-token: write`\?\)/);

    const denied = await runStep('main', { kind: 'aws.sts-credentials', principal: 'workload:x', target: 'roleArn=arn:aws:iam::123456789012:role/admin', duration: '15m' });
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/::error::the broker answered 403 policy_denied/);

    const nothing = await runStep('post', {});
    expect(nothing).toMatchObject({ code: 0, stderr: '' });
    expect(nothing.stdout).toContain('nothing to revoke');
  });
});
