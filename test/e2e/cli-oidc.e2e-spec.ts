import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalOidcIssuer, startLocalOidcIssuer } from '@jit/testing';
import { runJitCli } from '../setup/jit-cli.process';
import { TestBroker, startTestBroker } from '../setup/test-broker';

const REQUEST_TOKEN = 'actions-runtime-request-token-0123';
const RUN_CLAIMS = {
  sub: 'repo:acme/app:ref:refs/heads/main',
  repository: 'acme/app',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  sha: '0123456789abcdef0123456789abcdef01234567',
  workflow: 'deploy',
  job_workflow_ref: 'acme/app/.github/workflows/deploy.yml@refs/heads/main',
  run_id: '9876543210',
  run_attempt: '1',
  actor: 'octocat',
};

function rulesFile(issuer: string): string {
  return `
version: 1
issuers:
  - name: ci
    issuer: ${issuer}
    audience: jit-broker
    roles: [requester]
rules:
  - name: main-branch-deploys
    requesters:
      - issuer: ci
        claims: { repository: acme/app, ref: refs/heads/main }
    targets:
      - { kind: aws.iam-policy, actions: ["s3:PutObject"], resources: ["arn:aws:s3:::artifacts/*"] }
    maxDuration: PT30M
    approval: auto
`;
}

const POLICY_REQUEST = [
  '--kind', 'aws.iam-policy',
  '--target', 'actions=["s3:PutObject"]',
  '--target', 'resources=["arn:aws:s3:::artifacts/*"]',
  '--principal', 'workload:arn:aws:iam::123456789012:role/ci-deployer',
  '--duration', 'PT10M',
  '--justification', 'deploy',
];

describe('jit with a CI OIDC token and no stored secret', () => {
  let t: TestBroker;
  let oidc: LocalOidcIssuer;
  let tokenEndpoint: Server;
  let tokenUrl: string;
  const asked: { audience: string | null; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    oidc = await startLocalOidcIssuer();
    // GitHub Actions' token endpoint: ACTIONS_ID_TOKEN_REQUEST_URL with &audience=, bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, answers {"value": "<jwt>"}.
    tokenEndpoint = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      asked.push({ audience: url.searchParams.get('audience'), authorization: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}` || url.searchParams.get('api-version') !== '2.0') {
        res.writeHead(401).end();
        return;
      }
      void oidc.sign(RUN_CLAIMS, { audience: url.searchParams.get('audience') ?? 'https://github.com/acme' }).then((value) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 1, value }));
      });
    });
    await new Promise<void>((resolve) => tokenEndpoint.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(tokenEndpoint.address() as AddressInfo).port}/_apis/token?api-version=2.0`;
    const dir = mkdtempSync(join(tmpdir(), 'jit-cli-oidc-'));
    writeFileSync(join(dir, 'rules.yaml'), rulesFile(oidc.issuer));
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml'), JIT_POLICY_RELOAD_INTERVAL: 'PT1H' });
  });
  afterAll(async () => {
    await t?.close();
    await oidc?.close();
    await new Promise((resolve) => tokenEndpoint?.close(resolve));
  });

  const requestedEvent = async (grantId: string) => {
    const res = await t.http.get('/v1/audit').query({ grantId, type: 'grant.requested' }).set(t.as('auditor')).expect(200);
    return res.body.items[0] as { actor: string; data: Record<string, unknown> };
  };

  it("should fetch the job's OIDC token for the broker's audience in GitHub Actions, and the grant should record the run's claims", async () => {
    const run = runJitCli(['exec', ...POLICY_REQUEST, '--', process.execPath, '-e', 'console.log(process.env.JIT_GRANT_ID)'], {
      JIT_URL: t.broker.url!,
      ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
    });
    const { code, stdout, stderr } = await run.exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining('revoked') });
    expect(asked.at(-1)).toEqual({ audience: 'jit-broker', authorization: `Bearer ${REQUEST_TOKEN}` });
    const grantId = stdout.trim();
    const event = await requestedEvent(grantId);
    expect(event.actor).toBe('ci:repo:acme/app:ref:refs/heads/main');
    expect(event.data.requester).toEqual({ issuer: 'ci', claims: RUN_CLAIMS });
    const grant = await t.http.get(`/v1/grants/${grantId}`).set(t.as('admin')).expect(200);
    expect(grant.body).toMatchObject({ state: 'revoked', decision: { rule: 'main-branch-deploys' } });
  }, 180_000);

  it('should ask for the audience given with JIT_OIDC_AUDIENCE, which this broker refuses (auth exit code)', async () => {
    const { code, stderr } = await runJitCli(['request', ...POLICY_REQUEST], {
      JIT_URL: t.broker.url!,
      ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      JIT_OIDC_AUDIENCE: 'https://github.com/acme',
    }).exited;
    expect(asked.at(-1)?.audience).toBe('https://github.com/acme');
    expect(code).toBe(13);
    expect(stderr).toContain('(401 ');
  }, 180_000);

  it("should take GitLab CI's id_tokens variable named by JIT_OIDC_TOKEN_VAR, and the rules should hold a run of another branch back", async () => {
    const gitlab = await oidc.sign({ ...RUN_CLAIMS, project_path: 'acme/app', pipeline_id: '555', job_id: '777' });
    const ok = await runJitCli(['request', ...POLICY_REQUEST, '--json'], { JIT_URL: t.broker.url!, JIT_OIDC_TOKEN_VAR: 'DEPLOY_ID_TOKEN', DEPLOY_ID_TOKEN: gitlab }).exited;
    expect(ok.code).toBe(0);
    const grantId = (JSON.parse(ok.stdout) as { grant: { id: string } }).grant.id;
    expect((await requestedEvent(grantId)).data.requester).toEqual({ issuer: 'ci', claims: { ...RUN_CLAIMS, project_path: 'acme/app', pipeline_id: '555', job_id: '777' } });

    const otherBranch = await oidc.sign({ ...RUN_CLAIMS, ref: 'refs/heads/feature', sub: 'repo:acme/app:ref:refs/heads/feature' });
    const refused = await runJitCli(['request', ...POLICY_REQUEST], { JIT_URL: t.broker.url!, JIT_ID_TOKEN: otherBranch }).exited;
    expect(refused.code).toBe(10);
    expect(refused.stderr).toContain('policy_denied');
  }, 180_000);
});
