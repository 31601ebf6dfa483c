import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../setup/poll-until.util';
import { runJitCli } from '../setup/jit-cli.process';
import { TOKENS, TestBroker, startTestBroker } from '../setup/test-broker';

/** alice's GCP storage requests need one approval from sre; everything else of hers is automatic. */
const RULES = `
version: 1
approvalTimeout: PT1H
groups:
  sre: []
rules:
  - name: storage-with-approval
    requesters:
      - subjects: [alice]
    targets:
      - kind: gcp.iam-binding
        roles: ["roles/storage.*"]
        resources: ["projects/acme-prod"]
    maxDuration: PT4H
    approval: { approvals: 1, from: [sre] }
  - name: pipeline-auto
    requesters:
      - subjects: [alice]
    targets:
      - { kind: aws.iam-policy, actions: ["s3:*"], resources: ["*"] }
    maxDuration: PT1H
    approval: auto
`;

const STORAGE_REQUEST = ['--kind', 'gcp.iam-binding', '--target', 'resource=projects/acme-prod', '--target', 'role=roles/storage.objectAdmin', '--principal', 'user:user:alice@acme.com', '--duration', '1h', '--justification', 'restore an object'];

describe('jit request, approve, deny, ls, show, audit and rules against a running broker', () => {
  let t: TestBroker;
  let as: (who: keyof typeof TOKENS) => Record<string, string>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-cli-rules-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml'), JIT_POLICY_RELOAD_INTERVAL: 'PT1H' });
    as = (who) => ({ JIT_URL: t.broker.url!, JIT_TOKEN: TOKENS[who], NO_COLOR: '1' });
  });
  afterAll(() => t.close());

  const seen = new Set<string>();
  const running: ReturnType<typeof runJitCli>[] = [];
  const cli = (args: string[], env: Record<string, string>) => {
    const run = runJitCli(args, env);
    running.push(run);
    return run;
  };
  afterEach(() => {
    // A failed test leaves no waiting CLI behind.
    for (const run of running.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });

  /** The id of a pending request of alice's that no earlier test saw, once the broker has it. */
  const pendingId = () =>
    pollUntil(async () => {
      const res = await t.http.get('/v1/grants').query({ state: 'pending_approval', requester: 'alice' }).set(t.as('approver')).expect(200);
      const id = (res.body.items as { id: string }[]).map((g) => g.id).find((g) => !seen.has(g));
      if (id) seen.add(id);
      return id;
    }, 60_000, 200);

  it('should wait while a request awaits approval and exit 0 once another token approves it, with --json output that parses', async () => {
    const run = cli(['request', ...STORAGE_REQUEST, '--wait', '--json'], as('alice'));
    const id = await pendingId();
    const approve = await cli(['approve', id, '--comment', 'ok'], as('approver')).exited;
    expect({ code: approve.code, stderr: approve.stderr }).toEqual({ code: 0, stderr: '' });
    expect(approve.stdout).toMatch(/state\s+active/);
    const { code, stdout } = await run.exited;
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { outcome: string; grant: { id: string; state: string; approvals: { approver: string }[] } };
    expect(out).toMatchObject({ outcome: 'active', grant: { id, state: 'active', approvals: [{ approver: 'dave-approver' }] } });

    const list = await cli(['ls', '--json', '--state', 'active'], as('alice')).exited;
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { items: { id: string }[] }).items.map((g) => g.id)).toContain(id);
    const show = await cli(['show', id], as('alice')).exited;
    expect(show.stdout).toMatch(new RegExp(`grant\\s+${id}\\n`));
    expect(show.stdout).toMatch(/rule\s+storage-with-approval \(approvals, 1\/1 approvals from sre\)/);
    const table = await cli(['ls', '--state', 'active'], as('alice')).exited;
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+KIND\s+PRINCIPAL\s+TARGET\s+WHEN\s+REQUESTER$/);
    expect(table.stdout).toMatch(new RegExp(`${id}\\s+active\\s+gcp.iam-binding\\s+user:alice@acme.com\\s+role=roles/storage.objectAdmin resource=projects/acme-prod\\s+expires in `));
    const none = await cli(['ls', '--state', 'revoke_failed'], as('alice')).exited;
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toContain('no grants match');
    const trail = await cli(['audit', '--grant-id', id], as('auditor')).exited;
    expect(trail.stdout.split('\n').slice(1, 3).map((l) => l.split(/\s+/)[2])).toEqual(['grant.requested', 'grant.approved']);
    const revoke = await cli(['revoke', id, '--reason', 'done', '--json'], as('alice')).exited;
    expect(JSON.parse(revoke.stdout)).toMatchObject({ id, state: 'revoked' });
  }, 180_000);

  it('should show the progress on stderr and exit 10 when an approver denies the request', async () => {
    const run = cli(['request', ...STORAGE_REQUEST, '--wait'], as('alice'));
    const id = await pendingId();
    const noReason = await cli(['deny', id], as('approver')).exited;
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('deny needs --reason');
    expect((await cli(['deny', id, '--reason', 'not during the freeze'], as('approver')).exited).code).toBe(0);
    const { code, stdout, stderr } = await run.exited;
    expect(code).toBe(10);
    expect(stderr).toContain(`grant ${id} pending_approval (rule storage-with-approval, approvers sre`);
    expect(stderr).toContain('approvals 0/1');
    expect(stderr.indexOf('pending_approval')).toBeLessThan(stderr.indexOf(`grant ${id} denied`));
    expect(stdout).toMatch(/denied\s+by dave-approver .*: not during the freeze/);
  }, 180_000);

  it('should withdraw the request and exit 143 when jit exec gets SIGTERM while waiting for approval', async () => {
    const run = cli(['exec', ...STORAGE_REQUEST, '--', process.execPath, '-e', 'console.log("ran")'], as('alice'));
    const id = await pendingId();
    await pollUntil(async () => (run.stderr.includes(`grant ${id} pending_approval`) ? true : undefined), 60_000, 100);
    run.child.kill('SIGTERM');
    const { code, stdout, stderr } = await run.exited;
    expect(code).toBe(143);
    expect(stdout).not.toContain('ran');
    expect(stderr).toContain(`grant ${id} denied`);
    const grant = await t.http.get(`/v1/grants/${id}`).set(t.as('alice')).expect(200);
    expect(grant.body).toMatchObject({ state: 'denied', endReason: 'withdrawn' });
  }, 180_000);

  it('should exit 11 when --timeout passes first, leaving the request pending', async () => {
    const { code, stderr } = await cli(['request', ...STORAGE_REQUEST, '--wait', '--timeout', '2s'], as('alice')).exited;
    expect(code).toBe(11);
    const id = /gave up waiting; the request is still pending_approval \(jit show ([0-9a-f-]+)\)/.exec(stderr)?.[1];
    expect(id).toBeDefined();
    await t.http.post(`/v1/grants/${id}/revoke`).set(t.as('alice')).send({}).expect(200);
  }, 180_000);

  it('should exit 10 naming the rule decision when the rules refuse the request', async () => {
    const { code, stderr } = await cli(['request', '--kind', 'aws.iam-policy', '-t', 'actions=iam:*', '-t', 'actions=s3:*', '-t', 'resources=["*"]', '--principal', 'arn:aws:iam::123456789012:role/ci-deployer', '-d', '20m'], as('alice')).exited;
    expect(code).toBe(10);
    expect(stderr).toContain('(403 policy_denied)');
  }, 180_000);

  it('should exit 13 on a token the broker does not know, and 2 on a missing URL', async () => {
    const auth = await cli(['ls'], { ...as('alice'), JIT_TOKEN: 'tok-nobody-000000000000000000000' }).exited;
    expect(auth.code).toBe(13);
    expect(auth.stderr).toContain('(401 ');
    const usage = await cli(['ls'], { JIT_TOKEN: TOKENS.alice }).exited;
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('no broker URL');
  }, 180_000);

  it('should stream the audit export as JSON lines and verify the chain', async () => {
    const jsonl = await cli(['audit', '--format', 'jsonl', '--type', 'grant.requested'], as('auditor')).exited;
    expect(jsonl.code).toBe(0);
    const events = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; seq: number });
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.every((e) => e.type === 'grant.requested')).toBe(true);
    const csv = await cli(['audit', '--format', 'csv', '--type', 'grant.requested'], as('auditor')).exited;
    expect(csv.stdout.trim().split('\n')).toHaveLength(events.length + 1);
    const verify = await cli(['audit', 'verify', '--json'], as('auditor')).exited;
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, brokenCount: 0 });
  }, 180_000);

  it("should check a rules file and its cases with the broker's own checker", async () => {
    const ok = await cli(['rules', 'test', 'examples/sandbox.rules.yaml', 'examples/sandbox.rules.cases.yaml'], {}).exited;
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\d+ passed, 0 failed/);
    const dir = mkdtempSync(join(tmpdir(), 'jit-cli-bad-rules-'));
    writeFileSync(join(dir, 'bad.yaml'), 'version: 1\nrules:\n  - name: x\n    maxDuration: forever\n');
    const bad = await cli(['rules', 'check', join(dir, 'bad.yaml')], {}).exited;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.yaml:');
  }, 180_000);
});
