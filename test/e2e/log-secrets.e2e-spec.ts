import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsSimulator } from '@jit/sim-aws';
import { LocalOidcIssuer, startLocalOidcIssuer } from '@jit/testing';
import { ensureAuditSigningKey } from '../../apps/broker/src/audit/audit-signing-key.file';
import { sha256Hex } from '../../apps/broker/src/http/auth/token-registry';
import { BrokerProcess, spawnBroker } from '../setup/broker-process';
import { pollUntil } from '../setup/poll-until.util';
import { SpawnedBrokerDatabase, createSpawnedBrokerDatabase } from '../setup/spawned-broker-database';

/** Compiling and starting the broker process on a loaded two-core machine. */
const BOOT_MS = 120_000;
const ACCOUNT = '123456789012';
const secret = (prefix: string) => `${prefix}${randomBytes(18).toString('hex')}`;

/** Every secret the run hands the broker; none may appear in its output. */
const SECRETS = {
  admin: secret('adm_'),
  developer: secret('dev_'),
  approver: secret('apr_'),
  auditor: secret('aud_'),
  /** A token nobody holds: refused with a 401, and not logged either. */
  unknown: secret('unk_'),
  awsSecretKey: secret('awsk'),
  webhookSecret: secret('whs_'),
  /** A Slack-style webhook URL carries its credential in the path. */
  webhookUrlToken: secret('hook'),
  checkpointPassword: secret('ckpt'),
  databasePassword: secret('dbpw'),
};

/**
 * Issue 13 point 4: "never a token, credential or secret (a test greps the logs of a full e2e run
 * for the secrets it used)". The real broker (`npm start`'s main.ts, JSON logs at info) serves the
 * AWS simulator with a secret access key from the environment, static tokens (a tokens file and
 * an admin token), an OIDC pipeline, a signed webhook whose URL carries a token, a checkpoint
 * sink whose URL carries a password, and (on PostgreSQL) a DATABASE_URL with a password. A run of
 * requests, approvals, STS credentials, revocations, audit reads and refusals; then its whole
 * output (stdout and stderr, to the clean exit) holds none of those secrets nor the vended
 * credentials, while its lines are JSON and carry the request ids, grants and actors.
 */
describe('logs of a full run hold no secret', () => {
  let dir: string;
  let aws: AwsSimulator;
  let oidc: LocalOidcIssuer;
  let receiver: Server;
  const received: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let database: SpawnedBrokerDatabase | undefined;
  let broker: BrokerProcess | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jit-logs-'));
    aws = await AwsSimulator.start({ port: 0 });
    aws.createRole('deploy', { accountId: ACCOUNT, maxSessionDuration: 43_200 });
    aws.createRole('ci-deployer', { accountId: ACCOUNT });
    oidc = await startLocalOidcIssuer();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    database = await createSpawnedBrokerDatabase(dir, 'jit_logs');
  }, BOOT_MS);

  afterAll(async () => {
    if (broker?.child.exitCode === null) await broker.kill9();
    await aws?.close();
    await oidc?.close();
    await new Promise((r) => receiver?.close(r));
    rmSync(dir, { recursive: true, force: true });
    await database?.drop();
  });

  it('should log JSON lines with request ids, grants and actors, and none of the secrets it was given or vended', async () => {
    const hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const rules = join(dir, 'rules.yaml');
    writeFileSync(
      rules,
      `version: 1
groups:
  sre: []
issuers:
  - name: ci
    issuer: ${oidc.issuer}
    audience: jit-broker
    roles: [requester]
rules:
  - name: pipelines
    requesters:
      - issuer: ci
        claims: { repository: acme/app }
    targets:
      - { kind: aws.sts-credentials, roleArns: ["*"] }
      - { kind: aws.iam-policy, actions: ["*"], resources: ["*"] }
    maxDuration: PT1H
    approval: auto
  - name: developers
    requesters:
      - subjects: [dev]
    targets:
      - { kind: aws.iam-policy, actions: ["*"], resources: ["*"] }
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre] }
`,
    );
    const tokens = join(dir, 'tokens.json');
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [
          { subject: 'dev', roles: ['requester'], sha256: sha256Hex(SECRETS.developer) },
          { subject: 'approver-1', roles: ['approver'], groups: ['sre'], sha256: sha256Hex(SECRETS.approver) },
          { subject: 'auditor-1', roles: ['auditor'], sha256: sha256Hex(SECRETS.auditor) },
        ],
      }),
    );
    const notifications = join(dir, 'notifications.yaml');
    writeFileSync(notifications, `webhooks:\n  - name: approvers\n    urlEnv: JIT_E2E_HOOK_URL\n    format: json\n    secretEnv: JIT_E2E_HOOK_SECRET\n`);

    broker = await spawnBroker(
      'apps/broker/src/main.ts',
      {
        JIT_LOG_FORMAT: 'json',
        JIT_LOG_LEVEL: 'info',
        JIT_PROVIDERS: 'aws',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: aws.endpoint,
        AWS_ACCESS_KEY_ID: 'AKIALOGSTEST',
        AWS_SECRET_ACCESS_KEY: SECRETS.awsSecretKey,
        JIT_ADMIN_TOKEN: SECRETS.admin,
        JIT_TOKENS_FILE: tokens,
        JIT_POLICY_FILE: rules,
        JIT_NOTIFICATIONS_FILE: notifications,
        JIT_E2E_HOOK_URL: `${hooks}/hooks/${SECRETS.webhookUrlToken}`,
        JIT_E2E_HOOK_SECRET: SECRETS.webhookSecret,
        JIT_AUDIT_SIGNING_KEY: ensureAuditSigningKey(dir).keyFile,
        JIT_AUDIT_CHECKPOINT_WEBHOOK_URL: `http://jit:${SECRETS.checkpointPassword}@127.0.0.1:${(receiver.address() as AddressInfo).port}/checkpoints`,
        JIT_AUDIT_CHECKPOINT_EVERY: '5',
        JIT_MIN_DURATION: 'PT1M',
        ...database!.env(SECRETS.databasePassword),
      },
      BOOT_MS,
    );
    const pipelineToken = await oidc.sign({ sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', aud: 'jit-broker' });
    const call = async (method: string, path: string, token: string, requestId: string | null, body?: unknown) => {
      const res = await fetch(`${broker!.url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(requestId !== null ? { 'X-Request-Id': requestId } : {}),
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, requestId: res.headers.get('x-request-id'), body: (text ? JSON.parse(text) : {}) as Record<string, any> };
    };
    const iamGrant = (role: string) => ({
      cloud: 'aws',
      principal: { type: 'workload', id: `arn:aws:iam::${ACCOUNT}:role/${role}` },
      target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs-test/*'] },
      duration: 'PT30M',
      justification: 'logs test',
    });

    // A pipeline (OIDC) gets STS credentials, handed over once in the response.
    const sts = await call('POST', '/v1/grants', pipelineToken, 'e2e-sts-1', {
      cloud: 'aws',
      principal: { type: 'workload', id: 'pipeline:release' },
      target: { kind: 'aws.sts-credentials', roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy` },
      duration: 'PT20M',
      justification: 'deploy',
    });
    expect(sts.status).toBe(201);
    expect(sts.requestId).toBe('e2e-sts-1');
    const vended = sts.body.credentials as Record<string, string>;
    expect(vended.secretAccessKey).toBeTruthy();
    expect(vended.sessionToken).toBeTruthy();

    // A developer's request waits for an approver; the webhook (signed with the secret) announces it.
    const pending = await call('POST', '/v1/grants', SECRETS.developer, 'e2e-request-1', iamGrant('ci-deployer'));
    expect(pending.status).toBe(202);
    const approved = await call('POST', `/v1/grants/${pending.body.id}/approve`, SECRETS.approver, 'e2e-approve-1', { comment: 'ok' });
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe('active');
    const revoked = await call('POST', `/v1/grants/${pending.body.id}/revoke`, SECRETS.developer, 'e2e-revoke-1', { reason: 'done' });
    expect(revoked.status).toBe(200);
    expect((await call('POST', `/v1/grants/${sts.body.id}/revoke`, SECRETS.admin, 'e2e-revoke-2', { reason: 'done' })).status).toBe(200);
    expect((await call('GET', `/v1/audit?grantId=${sts.body.id}`, SECRETS.auditor, 'e2e-audit-1')).status).toBe(200);
    expect((await call('GET', '/v1/audit/verify', SECRETS.auditor, 'e2e-verify-1')).body.ok).toBe(true);
    // Refused: a token nobody holds, and an OIDC token whose signature is not the issuer's.
    expect((await call('GET', '/v1/grants', SECRETS.unknown, 'e2e-unknown-1')).status).toBe(401);
    const forged = await oidc.sign({ sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', aud: 'jit-broker' }, { signWith: 'foreign' });
    expect((await call('GET', '/v1/grants', forged, 'e2e-forged-1')).status).toBe(401);
    // An id that is not one (spaces, too long) is replaced by a fresh one, returned to the caller.
    const odd = await call('GET', `/v1/grants/${sts.body.id}`, SECRETS.admin, `not an id ${'x'.repeat(200)}`);
    expect(odd.status).toBe(200);
    expect(odd.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await call('GET', `/v1/grants/${sts.body.id}`, SECRETS.admin, null);
    expect(generated.requestId).toMatch(/^[0-9a-f-]{36}$/);

    // The webhook was called (signed with its secret), so its URL and secret were in play; the checkpoint sink's URL with a password is refused by fetch, whose error names the URL.
    await pollUntil(async () => (received.some((r) => r.path.startsWith('/hooks/')) ? true : undefined), 30_000);
    const hook = received.find((r) => r.path.startsWith('/hooks/'))!;
    const [, t, v1] = /t=(\d+),v1=([0-9a-f]+)/.exec(String(hook.headers['x-jit-signature']))!;
    expect(createHmac('sha256', SECRETS.webhookSecret).update(`${t}.${hook.body}`).digest('hex')).toBe(v1);
    expect(await broker.stop()).toBe(0);

    const output = broker.output();
    const forbidden: Record<string, string> = {
      ...SECRETS,
      pipelineToken,
      pipelineSignature: pipelineToken.split('.')[2],
      forged,
      vendedSecretAccessKey: vended.secretAccessKey,
      vendedSessionToken: vended.sessionToken,
    };
    for (const [name, value] of Object.entries(forbidden)) {
      if (output.includes(value)) throw new Error(`the logs hold ${name}:\n${output.split('\n').filter((l) => l.includes(value)).join('\n')}`);
    }
    expect(output).not.toMatch(/SecretAccessKey"?\s*[:=]\s*"?(?!\[REDACTED\])[A-Za-z0-9/+=]{8,}/);
    expect(output).not.toMatch(/SessionToken"?\s*[:=]\s*"?(?!\[REDACTED\])[A-Za-z0-9/+=]{8,}/);

    // Not by logging nothing: every line is JSON (but Node's own warnings on stderr), and the requests' lines carry their id, grant and actor.
    const nodeWarning = /^\((node:\d+|Use `node --trace-)/;
    const lines = output.split('\n').filter((l) => l && !nodeWarning.test(l)).map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
    expect(lines.length).toBeGreaterThan(15);
    for (const line of lines) expect(line).toEqual(expect.objectContaining({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) }));
    const byRequest = (id: string) => lines.filter((l) => l.reqId === id);
    expect(byRequest('e2e-sts-1')).toContainEqual(
      expect.objectContaining({ msg: 'POST /v1/grants 201', status: 201, grantId: sts.body.id, actor: 'ci:repo:acme/app:ref:refs/heads/main' }),
    );
    expect(byRequest('e2e-request-1')).toContainEqual(expect.objectContaining({ msg: 'POST /v1/grants 202', grantId: pending.body.id, actor: 'dev' }));
    expect(byRequest('e2e-approve-1')).toContainEqual(
      expect.objectContaining({ msg: `POST /v1/grants/${pending.body.id}/approve 200`, grantId: pending.body.id, actor: 'approver-1' }),
    );
    expect(byRequest('e2e-revoke-1')).toContainEqual(expect.objectContaining({ grantId: pending.body.id, actor: 'dev', status: 200 }));
    expect(byRequest('e2e-revoke-2')).toContainEqual(expect.objectContaining({ grantId: sts.body.id, actor: 'admin', status: 200 }));
    expect(byRequest('e2e-unknown-1')).toContainEqual(expect.objectContaining({ level: 'warn', status: 401 }));
    expect(byRequest(odd.requestId!)).toContainEqual(expect.objectContaining({ grantId: sts.body.id, actor: 'admin', status: 200 }));
    expect(lines.filter((l) => typeof l.reqId === 'string' && l.reqId.startsWith('not an id'))).toEqual([]);
    // The start-up and shutdown lines name their component.
    expect(lines).toContainEqual(expect.objectContaining({ context: 'Broker', msg: expect.stringMatching(/^role=all clouds=aws/) }));
    expect(lines).toContainEqual(expect.objectContaining({ context: 'Broker', msg: expect.stringMatching(/^stopped in/) }));
  });
});
