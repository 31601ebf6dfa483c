import { SPECS_DIR } from '../../setup/specs-dir';
import { readFileSync } from 'node:fs';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { Target } from '@jit/domain';
import { AwsSimulator } from '@jit/sim-aws';
import type { RecordedRequest } from '@jit/sim-aws';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';

interface Shape {
  type: string;
  members?: Record<string, { shape: string; locationName?: string }>;
  member?: { shape: string; locationName?: string };
  required?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  error?: { code: string; httpStatusCode: number };
}
interface Model {
  metadata: { apiVersion: string; xmlNamespace: string };
  operations: Record<string, { input?: { shape: string }; errors?: { shape: string }[] }>;
  shapes: Record<string, Shape>;
}

const SPECS = process.env.AWS_BOTOCORE_MODELS ?? `${SPECS_DIR}/aws`;
const models: Record<'iam' | 'sts', Model> = {
  iam: JSON.parse(readFileSync(`${SPECS}/iam/2010-05-08/service-2.json`, 'utf8')),
  sts: JSON.parse(readFileSync(`${SPECS}/sts/2011-06-15/service-2.json`, 'utf8')),
};

/** botocore patterns in JS: `\uXXXXX` (5-6 digits) is a code point, and the pattern must match the whole value. */
function modelPattern(pattern: string): RegExp {
  const source = pattern.replace(/\\u([0-9A-Fa-f]{5,6})/g, '\\u{$1}').replace(/\\u([0-9A-Fa-f]{4})/g, '\\u{$1}');
  return new RegExp(`^(?:${source})$`, 'u');
}

/** Checks one flattened awsQuery member against its shape; returns the problems found. */
function checkMember(model: Model, shapeName: string, path: string[], value: string, where: string): string[] {
  const shape = model.shapes[shapeName];
  if (shape.type === 'structure') {
    const [name, ...rest] = path;
    const member = shape.members?.[name];
    if (!member) return [`${where}: ${name} is not a member of ${shapeName}`];
    return checkMember(model, member.shape, rest, value, `${where}.${name}`);
  }
  if (shape.type === 'list') {
    const [member, index, ...rest] = path;
    if (member !== 'member' || !/^[1-9]\d*$/.test(index ?? '')) return [`${where}: list not encoded as .member.N`];
    if (shape.max !== undefined && Number(index) > shape.max) return [`${where}: more than ${shape.max} entries`];
    return checkMember(model, shape.member!.shape, rest, value, `${where}.member.${index}`);
  }
  if (path.length) return [`${where}: ${shapeName} is a scalar`];
  const problems: string[] = [];
  if (shape.type === 'integer' || shape.type === 'long') {
    if (!/^-?\d+$/.test(value)) problems.push(`${where}: not an integer`);
    if (shape.min !== undefined && Number(value) < shape.min) problems.push(`${where}: below ${shape.min}`);
    if (shape.max !== undefined && Number(value) > shape.max) problems.push(`${where}: above ${shape.max}`);
  } else if (shape.type === 'string') {
    const length = [...value].length;
    if (shape.min !== undefined && length < shape.min) problems.push(`${where}: shorter than ${shape.min}`);
    if (shape.max !== undefined && length > shape.max) problems.push(`${where}: longer than ${shape.max}`);
    if (shape.pattern && !modelPattern(shape.pattern).test(value)) problems.push(`${where}: does not match ${shape.pattern}`);
  }
  return problems;
}

function checkRequest(r: RecordedRequest): string[] {
  const model = models[r.service];
  const op = model.operations[r.action];
  if (!op) return [`${r.service}: no operation ${r.action}`];
  const problems: string[] = [];
  if (r.method !== 'POST' || r.path !== '/') problems.push(`${r.action}: ${r.method} ${r.path}`);
  if (!r.contentType.startsWith('application/x-www-form-urlencoded')) problems.push(`${r.action}: content-type ${r.contentType}`);
  if (r.version !== model.metadata.apiVersion) problems.push(`${r.action}: Version ${r.version}`);
  if (!op.input) return problems.concat(Object.keys(r.params).map((k) => `${r.action}: unexpected ${k}`));
  for (const required of model.shapes[op.input.shape].required ?? []) {
    if (!Object.keys(r.params).some((k) => k === required || k.startsWith(`${required}.`))) problems.push(`${r.action}: missing ${required}`);
  }
  for (const [key, value] of Object.entries(r.params)) problems.push(...checkMember(model, op.input.shape, key.split('.'), value, r.action));
  return problems;
}

describe('AWS wire format against the botocore models', () => {
  let sim: AwsSimulator;
  let iam: IAMClient;
  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    iam = new IAMClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'x' }, maxAttempts: 1 });
  });
  afterAll(() => sim.close());

  it('should send only modeled members, within their min/max/pattern, for every call the adapter makes', async () => {
    const role = sim.createRole('wire-role', { maxSessionDuration: 7200 });
    const user = sim.createUser('wire-user');
    const provider = awsTestProvider(sim, { reconcilePrincipals: [role, user] });
    sim.clearRequests();
    const kinds: Target[] = [
      { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::wire/*'] },
      { kind: 'aws.assume-role', roleArn: role },
    ];
    for (const principal of [role, user]) {
      for (const target of kinds) {
        const spec = awsGrantSpec(provider, principal, target);
        await provider.grant(spec, { overlapping: [] });
        await provider.status(spec);
        await provider.revoke(spec, { overlapping: [], early: true });
      }
    }
    const sts = { ...awsGrantSpec(provider, role, { kind: 'aws.sts-credentials', roleArn: role }), principal: { type: 'workload' as const, id: 'ci' } };
    await provider.grant(sts, { overlapping: [] });
    await provider.revoke(sts, { overlapping: [], early: true });
    for await (const owned of provider.listOwned()) void owned;
    await provider.healthCheck();

    const actions = new Set(sim.requests().map((r) => r.action));
    expect([...actions].sort()).toEqual(
      ['AssumeRole', 'DeleteRolePolicy', 'DeleteUserPolicy', 'GetCallerIdentity', 'GetRole', 'GetRolePolicy', 'GetUserPolicy', 'ListRolePolicies', 'ListUserPolicies', 'PutRolePolicy', 'PutUserPolicy'],
    );
    expect(sim.requests().flatMap(checkRequest)).toEqual([]);
  });

  it('should send only modeled members for every call discovery\'s inventory makes (scan, remove, restore), with modeled error codes', async () => {
    const seeds = sim.iamSeeds;
    const group = seeds.createGroup('wire-admins');
    seeds.attachPolicy(group, 'arn:aws:iam::aws:policy/IAMFullAccess');
    const user = sim.createUser('wire-discovered');
    seeds.addToGroup(user, group);
    seeds.putInlinePolicy(user, 'wire-inline', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
    seeds.attachPolicy(sim.createRole('wire-discovered-role'), seeds.createPolicy('wire-policy', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] }));
    const inventory = awsTestProvider(sim, { inventory: { pageSize: 3, accessAdvisor: { firstPollMs: 1, maxPollMs: 5 } } }).standingInventory();
    sim.clearRequests();
    const found = [];
    let cursor: string | null = null;
    do {
      const page = await inventory.page('123456789012', cursor);
      found.push(...page.assignments);
      cursor = page.cursor;
    } while (cursor);
    const mine = found.filter((a) => ['wire-discovered', 'wire-discovered-role', 'wire-admins'].includes(a.principal.displayName ?? ''));
    expect(mine.map((a) => a.access.type).sort()).toEqual(['aws.group-membership', 'aws.inline-policy', 'aws.managed-policy', 'aws.managed-policy']);
    for (const a of mine) {
      await inventory.remove(a);
      await inventory.remove(a);
      await inventory.restore(a);
    }
    const actions = new Set(sim.requests().map((r) => r.action));
    for (const a of ['GetAccountAuthorizationDetails', 'GenerateServiceLastAccessedDetails', 'GetServiceLastAccessedDetails', 'GetUser', 'DetachRolePolicy', 'AttachRolePolicy', 'DetachGroupPolicy', 'AttachGroupPolicy', 'GetUserPolicy', 'DeleteUserPolicy', 'PutUserPolicy', 'RemoveUserFromGroup', 'AddUserToGroup']) {
      expect(actions).toContain(a);
    }
    expect(sim.requests().flatMap(checkRequest)).toEqual([]);
    // Removing what is already gone answers NoSuchEntity with the operation's modeled status.
    const errors = sim.requests().filter((r) => r.errorCode);
    expect(errors.length).toBeGreaterThan(0);
    for (const r of errors) {
      const model = models[r.service];
      const declared = (model.operations[r.action].errors ?? []).map((e) => model.shapes[e.shape].error!).find((e) => e.code === r.errorCode);
      expect([r.action, declared?.httpStatusCode]).toEqual([r.action, r.status]);
    }
  });

  it('should answer errors with the code and HTTP status the model declares for the operation', async () => {
    sim.createRole('errors-role');
    sim.clearRequests();
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: 600 }, (_, i) => `arn:aws:s3:::b${i}/*`) }] });
    const attempts: [string, () => Promise<unknown>][] = [
      ['NoSuchEntity', () => iam.send(new PutRolePolicyCommand({ RoleName: 'nobody', PolicyName: 'p', PolicyDocument: '{}' }))],
      ['MalformedPolicyDocument', () => iam.send(new PutRolePolicyCommand({ RoleName: 'errors-role', PolicyName: 'p', PolicyDocument: '{"Statement":' }))],
      ['MalformedPolicyDocument', () => iam.send(new PutRolePolicyCommand({ RoleName: 'errors-role', PolicyName: 'p', PolicyDocument: '{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Principal":"*"}]}' }))],
      ['LimitExceeded', () => iam.send(new PutRolePolicyCommand({ RoleName: 'errors-role', PolicyName: 'p', PolicyDocument: big }))],
    ];
    for (const [code, call] of attempts) {
      const error = (await call().then(() => undefined, (e: unknown) => e)) as { name: string; $metadata: { httpStatusCode: number } };
      expect(error?.name).toBe(`${code}Exception`);
    }
    for (const r of sim.requests()) {
      const model = models[r.service];
      const declared = (model.operations[r.action].errors ?? []).map((e) => model.shapes[e.shape].error!).find((e) => e.code === r.errorCode);
      expect(declared).toBeDefined();
      expect(r.status).toBe(declared!.httpStatusCode);
    }
  });

  it('should reject member values outside the model\'s constraints with ValidationError', async () => {
    sim.createRole('v-role');
    const cases: [string, Record<string, string>][] = [
      ['PutRolePolicy', { RoleName: 'r'.repeat(65), PolicyName: 'p', PolicyDocument: '{}' }],
      ['PutRolePolicy', { RoleName: 'v-role', PolicyName: 'bad name', PolicyDocument: '{}' }],
      ['PutRolePolicy', { RoleName: 'v-role', PolicyName: 'p', PolicyDocument: '{"Sid":"\u0100"}' }],
      ['GetRolePolicy', { RoleName: 'v-role' }],
    ];
    for (const [action, params] of cases) {
      const res = await rawCall(sim, 'iam', { Action: action, Version: '2010-05-08', ...params });
      expect(res.status).toBe(400);
      expect(res.body).toContain('<Code>ValidationError</Code>');
    }
    const role = sim.createRole('v-assume', { maxSessionDuration: 3600 });
    const invalid: Record<string, string>[] = [
      { RoleSessionName: 'has space', DurationSeconds: '900' },
      { RoleSessionName: 'ok', DurationSeconds: '899' },
      { RoleSessionName: 'ok', DurationSeconds: '43201' },
      { RoleSessionName: 'ok', DurationSeconds: '7200' },
      { RoleSessionName: 'ok', SourceIdentity: 'x' },
      { RoleSessionName: 'ok', SourceIdentity: 'aws:reserved' },
    ];
    for (const params of invalid) {
      const res = await rawCall(sim, 'sts', { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: role, ...params });
      expect([res.status, /<Code>ValidationError<\/Code>/.test(res.body)]).toEqual([400, true]);
    }
  });

  it('should refuse AssumeRole as STS does when the trust policy does not allow the caller sts:SetSourceIdentity', async () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:user/jit-broker' }, Action: 'sts:AssumeRole' }] };
    const role = sim.createRole('trust-no-tag', { trustPolicy: trust });
    const tagged = await rawCall(sim, 'sts', { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: role, RoleSessionName: 'ok', SourceIdentity: 'jit-1' });
    expect(tagged.status).toBe(403);
    expect(tagged.body).toContain('<Code>AccessDenied</Code>');
    expect(tagged.body).toContain(`is not authorized to perform: sts:SetSourceIdentity on resource: ${role}`);
    expect((await rawCall(sim, 'sts', { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: role, RoleSessionName: 'ok' })).status).toBe(200);
    const stranger = sim.createRole('trust-other', { trustPolicy: { ...trust, Statement: [{ ...trust.Statement[0], Principal: { AWS: '210987654321' } }] } });
    const refused = await rawCall(sim, 'sts', { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: stranger, RoleSessionName: 'ok' });
    expect(refused.body).toContain('is not authorized to perform: sts:AssumeRole');
  });

  it('should return GetRole with the model\'s members, the trust policy URL-encoded and MaxSessionDuration', async () => {
    sim.createRole('get-role', { maxSessionDuration: 7200, path: '/jit/' });
    const res = await rawCall(sim, 'iam', { Action: 'GetRole', Version: '2010-05-08', RoleName: 'get-role' });
    expect(res.status).toBe(200);
    const role = /<GetRoleResult><Role>(.*)<\/Role><\/GetRoleResult>/.exec(res.body)![1];
    const members = [...role.matchAll(/<(\w+)>/g)].map((m) => m[1]);
    const shape = models.iam.shapes.Role;
    expect(members.filter((m) => !(m in shape.members!))).toEqual([]);
    expect(shape.required!.filter((m) => !members.includes(m))).toEqual([]);
    expect(role).toContain('<Arn>arn:aws:iam::123456789012:role/jit/get-role</Arn><CreateDate>');
    expect(role).toContain('<MaxSessionDuration>7200</MaxSessionDuration>');
    const trust = /<AssumeRolePolicyDocument>([^<]*)</.exec(role)![1];
    expect(JSON.parse(decodeURIComponent(trust)).Statement[0].Action).toContain('sts:SetSourceIdentity');
    expect((await rawCall(sim, 'iam', { Action: 'GetRole', Version: '2010-05-08', RoleName: 'nobody' })).status).toBe(404);
  });

  it('should speak awsQuery XML: namespace, Result wrapper, RequestId header, URL-encoded policy on read', async () => {
    sim.createRole('xml-role');
    const doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a&b/*"}]}';
    expect((await rawCall(sim, 'iam', { Action: 'PutRolePolicy', Version: '2010-05-08', RoleName: 'xml-role', PolicyName: 'p', PolicyDocument: doc })).status).toBe(200);
    const get = await rawCall(sim, 'iam', { Action: 'GetRolePolicy', Version: '2010-05-08', RoleName: 'xml-role', PolicyName: 'p' });
    expect(get.body).toMatch(new RegExp(`^<GetRolePolicyResponse xmlns="${models.iam.metadata.xmlNamespace}"><GetRolePolicyResult>`));
    const encoded = /<PolicyDocument>([^<]*)<\/PolicyDocument>/.exec(get.body)![1];
    expect(encoded).not.toContain('{');
    expect(decodeURIComponent(encoded)).toBe(doc);
    expect(get.body).toMatch(/<ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/GetRolePolicyResponse>$/);
    expect(get.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await rawCall(sim, 'sts', { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: 'arn:aws:iam::123456789012:role/none', RoleSessionName: 'ok' });
    expect(missing.status).toBe(403);
    expect(missing.body).toMatch(new RegExp(`^<ErrorResponse xmlns="${models.sts.metadata.xmlNamespace}"><Error><Type>Sender</Type><Code>AccessDenied</Code>`));
    const unsigned = await fetch(sim.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
    expect(unsigned.status).toBe(403);
    const wrongVersion = await rawCall(sim, 'iam', { Action: 'ListRolePolicies', Version: '2011-06-15', RoleName: 'xml-role' });
    expect(wrongVersion.body).toContain('<Code>InvalidAction</Code>');
  });
});

async function rawCall(sim: AwsSimulator, service: 'iam' | 'sts', form: Record<string, string>): Promise<{ status: number; body: string; requestId: string | null }> {
  const res = await fetch(sim.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIATEST/20260501/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.text(), requestId: res.headers.get('x-amzn-requestid') };
}
