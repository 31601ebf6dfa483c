import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { LocalOidcIssuer, startLocalOidcIssuer } from '@jit/testing';
import { TestBroker, startTestBroker } from '../setup/test-broker';

const ROOT = join(__dirname, '..', '..');
const AGENT = { issuerName: 'agents', sub: 'claude-code@acme-dev' };
const AGENT_SUBJECT = `${AGENT.issuerName}:${AGENT.sub}`;

/** An agent's storage requests need one human approval from sre; its log reading is automatic. */
function rulesFile(issuer: string): string {
  return `
version: 1
groups:
  sre: []
issuers:
  - name: ${AGENT.issuerName}
    issuer: ${issuer}
    audience: jit-broker
rules:
  - name: agent-logs
    requesters:
      - issuer: ${AGENT.issuerName}
        claims: { sub: "${AGENT.sub}" }
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/logging.viewer"], resources: ["projects/acme-dev"] }
    maxDuration: PT1H
    approval: auto
  - name: agent-storage-needs-a-human
    requesters:
      - issuer: ${AGENT.issuerName}
        claims: { sub: "${AGENT.sub}" }
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/storage.*"], resources: ["projects/acme-dev"] }
    maxDuration: PT1H
    justification: { required: true }
    approval: { approvals: 1, from: [sre] }
`;
}

const storageRequest = {
  cloud: 'gcp',
  principal: { type: 'workload', id: 'serviceAccount:agent@acme-dev.iam.gserviceaccount.com' },
  target: { kind: 'gcp.iam-binding', resource: 'projects/acme-dev', role: 'roles/storage.objectViewer' },
  duration: 'PT30M',
  justification: 'read the failed upload to find why the nightly import broke',
};

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

describe('jit mcp: an agent asks through the MCP SDK client, a rule sends the request to a human', () => {
  let t: TestBroker;
  let oidc: LocalOidcIssuer;
  let client: Client;
  let stderr = '';

  beforeAll(async () => {
    oidc = await startLocalOidcIssuer();
    const dir = mkdtempSync(join(tmpdir(), 'jit-mcp-'));
    writeFileSync(join(dir, 'rules.yaml'), rulesFile(oidc.issuer));
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml'), JIT_POLICY_RELOAD_INTERVAL: 'PT1H' });
    const agentToken = await oidc.sign({ sub: AGENT.sub }, { expiresInSeconds: 600 });
    // The server as an MCP host starts it: its own process, speaking MCP on stdin/stdout.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['-r', '@swc-node/register', join(ROOT, 'apps/cli/src/main.ts'), 'mcp'],
      cwd: ROOT,
      // Only what a host would pass (and an empty HOME: no config file is read).
      env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'jit-mcp-home-')), JIT_URL: t.broker.url!, JIT_TOKEN: agentToken },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: 'e2e-agent', version: '1.0.0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
    await t?.close();
    await oidc?.close();
  });

  const callTool = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;

  it('should list the five tools, request_access requiring a justification', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(['get_grant', 'list_my_grants', 'request_access', 'revoke_grant', 'wait_for_grant']);
    const request = tools.find((x) => x.name === 'request_access')!;
    expect(request.inputSchema.required).toEqual(expect.arrayContaining(['cloud', 'principal', 'target', 'duration', 'justification']));
  });

  it('should answer pending approval, then active once a human approves, then revoked; all under the agent as actor in the audit log', async () => {
    const requested = await callTool('request_access', storageRequest);
    expect(requested.isError).toBeFalsy();
    const grantId = (requested.structuredContent as { grant: { id: string; state: string } }).grant.id;
    expect((requested.structuredContent as { grant: { state: string } }).grant.state).toBe('pending_approval');
    expect(text(requested)).toContain(`Pending approval: 0 of 1 approvals from group(s) sre`);
    expect(text(requested)).toContain(`approve grant ${grantId}`);

    // A bounded wait returns, still pending, instead of blocking on a human who is not there.
    const waited = await client.callTool({ name: 'wait_for_grant', arguments: { grantId, timeoutSeconds: 1 } });
    expect(text(waited as CallToolResult)).toContain('Still pending_approval after waiting 1 s');

    expect(t.clouds.gcp.calls.filter((c) => c.grantId === grantId)).toEqual([]);
    const mine = await callTool('list_my_grants', { state: 'pending_approval' });
    expect((mine.structuredContent as { grants: { id: string }[] }).grants.map((g) => g.id)).toEqual([grantId]);

    await t.http.post(`/v1/grants/${grantId}/approve`).set(t.as('approver')).send({ comment: 'ok for the import' }).expect(200);
    const active = await callTool('get_grant', { grantId });
    expect((active.structuredContent as { grant: { state: string } }).grant.state).toBe('active');
    expect(text(active)).toMatch(/^Active: grant .* is granted until \d{4}-/);

    const revoked = await callTool('revoke_grant', { grantId, reason: 'import diagnosed' });
    expect((revoked.structuredContent as { grant: { state: string } }).grant.state).toBe('revoked');
    expect(t.clouds.gcp.calls.filter((c) => c.grantId === grantId).map((c) => c.op)).toEqual(['grant', 'revoke']);

    const events = (await t.http.get(`/v1/audit?grantId=${grantId}`).set(t.as('auditor')).expect(200)).body.items as { type: string; actor: string }[];
    const actorOf = (type: string) => events.find((e) => e.type === type)?.actor;
    expect(actorOf('grant.requested')).toBe(AGENT_SUBJECT);
    expect(actorOf('grant.approved')).toBe('dave-approver');
    // The agent asks for the revoke; the broker carries it out in the cloud.
    expect(actorOf('grant.revoke_requested')).toBe(AGENT_SUBJECT);
    expect(actorOf('grant.revoked')).toBe('broker');
  });

  it('should report progress while waiting and answer active once a human approves during the wait', async () => {
    const requested = await callTool('request_access', { ...storageRequest, duration: 'PT10M' });
    const grantId = (requested.structuredContent as { grant: { id: string } }).grant.id;
    const progress: string[] = [];
    let approving: Promise<number> | undefined;
    const waited = (await client.callTool({ name: 'wait_for_grant', arguments: { grantId, timeoutSeconds: 40 } }, undefined, {
      timeout: 50_000,
      onprogress: (p) => {
        progress.push(p.message ?? '');
        // The human approves only once the agent is seen waiting.
        approving ??= t.http
          .post(`/v1/grants/${grantId}/approve`)
          .set(t.as('approver2'))
          .send({})
          .then((r) => r.status);
      },
    })) as CallToolResult;
    expect(await approving).toBe(200);
    expect(progress[0]).toContain(`Pending approval: 0 of 1 approvals`);
    expect((waited.structuredContent as { grant: { state: string } }).grant.state).toBe('active');
    await callTool('revoke_grant', { grantId });
  });

  it('should grant at once what a rule allows automatically, once per idempotency key', async () => {
    const args = { ...storageRequest, target: { ...storageRequest.target, role: 'roles/logging.viewer' }, idempotencyKey: 'agent-logs-1' };
    const r = await callTool('request_access', args);
    expect(text(r)).toMatch(/^Active: /);
    const id = (r.structuredContent as { grant: { id: string } }).grant.id;
    // The same key again (an answer the agent lost): the same grant, not a second one.
    const again = await callTool('request_access', args);
    expect((again.structuredContent as { grant: { id: string } }).grant.id).toBe(id);
    await callTool('revoke_grant', { grantId: id });
  });

  it('should answer bad input with a tool error naming the field, and the server keeps serving', async () => {
    const noJustification = await callTool('request_access', { ...storageRequest, justification: undefined });
    expect(noJustification.isError).toBe(true);
    expect(text(noJustification)).toContain('justification');

    const badDuration = await callTool('request_access', { ...storageRequest, duration: 'thirty minutes' });
    expect(badDuration.isError).toBe(true);
    expect(text(badDuration)).toContain('duration');

    const badId = await callTool('get_grant', { grantId: 42 });
    expect(badId.isError).toBe(true);
    expect(text(badId)).toContain('grantId');

    // Refused by the broker, not by the schema: its problem's field is passed on.
    const badTarget = await callTool('request_access', { ...storageRequest, target: { kind: 'gcp.iam-binding', resource: 'projects/acme-dev', role: 'owner' } });
    expect(badTarget.isError).toBe(true);
    expect(text(badTarget)).toContain('target.role');

    const denied = await callTool('request_access', { ...storageRequest, target: { ...storageRequest.target, resource: 'projects/acme-prod' } });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toContain('no_matching_rule');

    expect((await client.listTools()).tools).toHaveLength(5);
    expect(stderr).toBe('');
  });

  it('should refuse aws.sts-credentials before asking the broker, since it would put secret keys into the model context', async () => {
    const r = await callTool('request_access', {
      cloud: 'aws',
      principal: { type: 'workload', id: 'agent-session' },
      target: { kind: 'aws.sts-credentials', roleArn: 'arn:aws:iam::123456789012:role/reader' },
      duration: 'PT15M',
      justification: 'list the bucket',
    });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('jit exec');
    const all = (await t.http.get('/v1/grants?cloud=aws').set(t.as('admin')).expect(200)).body.items as unknown[];
    expect(all).toHaveLength(0);
  });
});
