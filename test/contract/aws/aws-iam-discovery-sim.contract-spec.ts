import { readFileSync } from 'node:fs';
import {
  AddUserToGroupCommand, AttachGroupPolicyCommand, AttachRolePolicyCommand, CreateGroupCommand, CreatePolicyCommand, DetachRolePolicyCommand,
  GenerateServiceLastAccessedDetailsCommand, GetAccountAuthorizationDetailsCommand, GetPolicyVersionCommand, GetServiceLastAccessedDetailsCommand,
  GetGroupCommand, GetUserCommand, IAMClient, ListAttachedRolePoliciesCommand, PutGroupPolicyCommand, RemoveUserFromGroupCommand,
} from '@aws-sdk/client-iam';
import { AwsSimulator } from '@jit/sim-aws';
import { SPECS_DIR } from '../../setup/specs-dir';

interface Shape {
  type: string;
  members?: Record<string, { shape: string; locationName?: string }>;
  member?: { shape: string };
  enum?: string[];
}
interface Model {
  operations: Record<string, { output?: { shape: string; resultWrapper?: string } }>;
  shapes: Record<string, Shape>;
}
const model: Model = JSON.parse(readFileSync(`${SPECS_DIR}/aws/iam/2010-05-08/service-2.json`, 'utf8'));

interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

/** The simulator writes plain elements (no attributes but the root's xmlns, no CDATA): enough to walk them. */
function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: '#root', children: [], text: '' };
  const stack = [root];
  const token = /<(\/?)([A-Za-z][\w.-]*)[^>]*?(\/?)>|([^<]+)/g;
  for (let m = token.exec(xml); m; m = token.exec(xml)) {
    const top = stack[stack.length - 1];
    if (m[4] !== undefined) top.text += m[4];
    else if (m[1]) stack.pop();
    else {
      const node: XmlNode = { name: m[2], children: [], text: '' };
      top.children.push(node);
      if (!m[3]) stack.push(node);
    }
  }
  return root.children[0];
}

/** Every element under `node` must be a member of `shapeName` (lists as `<member>`), and enum values must be in the enum. */
function checkAgainst(node: XmlNode, shapeName: string, where: string): string[] {
  const shape = model.shapes[shapeName];
  if (shape.type === 'structure') {
    return node.children.flatMap((child) => {
      const entry = Object.entries(shape.members ?? {}).find(([name, m]) => (m.locationName ?? name) === child.name);
      return entry ? checkAgainst(child, entry[1].shape, `${where}.${child.name}`) : [`${where}: ${child.name} is not a member of ${shapeName}`];
    });
  }
  if (shape.type === 'list') {
    return node.children.flatMap((child, i) => (child.name === 'member' ? checkAgainst(child, shape.member!.shape, `${where}[${i}]`) : [`${where}: list item <${child.name}>`]));
  }
  const problems = node.children.length ? [`${where}: ${shapeName} is a scalar`] : [];
  if (shape.enum && !shape.enum.includes(node.text)) problems.push(`${where}: ${node.text} not in ${shape.enum.join('|')}`);
  if (shape.type === 'timestamp' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(node.text)) problems.push(`${where}: timestamp ${node.text}`);
  if (shape.type === 'boolean' && !['true', 'false'].includes(node.text)) problems.push(`${where}: boolean ${node.text}`);
  return problems;
}

const OWN = '123456789012';

/** Issue 16 point 5: the listing and last-used APIs on IAM's wire format, checked against the botocore model. */
describe('AWS simulator: discovery\'s IAM actions on the wire', () => {
  let sim: AwsSimulator;
  let iam: IAMClient;

  /** One raw awsQuery call, its XML checked against the operation's output shape. */
  async function raw(action: string, params: Record<string, string>): Promise<{ status: number; xml: string; problems: string[] }> {
    const body = new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString();
    const res = await fetch(sim.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/iam/aws4_request' },
      body,
    });
    const xml = await res.text();
    const root = parseXml(xml);
    const op = model.operations[action];
    const problems: string[] = [];
    if (res.status === 200 && op.output) {
      if (root.name !== `${action}Response`) problems.push(`root ${root.name}`);
      const result = root.children.find((c) => c.name === op.output!.resultWrapper);
      if (!result) problems.push(`no ${op.output.resultWrapper}`);
      else problems.push(...checkAgainst(result, op.output.shape, action));
    }
    return { status: res.status, xml, problems };
  }

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    iam = new IAMClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'x' }, maxAttempts: 1 });
  });
  afterAll(() => sim.close());

  it('should list users, groups, roles and policies with URL-encoded documents, paged by MaxItems across the lists, as the model names them', async () => {
    const alice = sim.createUser('alice');
    const ops = sim.createRole('ops');
    sim.createRole('idle');
    await iam.send(new CreateGroupCommand({ GroupName: 'Admins' }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'Admins', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    await iam.send(new PutGroupPolicyCommand({ GroupName: 'Admins', PolicyName: 'extra', PolicyDocument: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'Admins', UserName: 'alice' }));
    const created = await iam.send(new CreatePolicyCommand({ PolicyName: 'deploy', Path: '/team/', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['lambda:*', 'iam:PassRole'], Resource: '*' }] }) }));
    expect(created.Policy).toMatchObject({ PolicyName: 'deploy', Arn: `arn:aws:iam::${OWN}:policy/team/deploy`, DefaultVersionId: 'v1', AttachmentCount: 0, IsAttachable: true });
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'ops', PolicyArn: created.Policy!.Arn }));
    sim.iamSeeds.setRoleLastUsed(ops, new Date('2026-11-01T10:00:00Z'), 'eu-west-1');

    const users: string[] = [];
    const roles: { name?: string; last?: Date; policies: string[] }[] = [];
    const groups: string[] = [];
    const policies: { arn?: string; doc?: string; count?: number }[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const out = await iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 2, Marker: marker }));
      pages++;
      expect((out.UserDetailList?.length ?? 0) + (out.GroupDetailList?.length ?? 0) + (out.RoleDetailList?.length ?? 0) + (out.Policies?.length ?? 0)).toBeLessThanOrEqual(2);
      for (const u of out.UserDetailList ?? []) {
        users.push(u.UserName!);
        expect(u).toMatchObject({ Arn: alice, GroupList: ['Admins'], AttachedManagedPolicies: [] });
      }
      for (const g of out.GroupDetailList ?? []) {
        groups.push(g.GroupName!);
        expect(g.AttachedManagedPolicies).toEqual([{ PolicyName: 'AdministratorAccess', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }]);
        expect(JSON.parse(decodeURIComponent(g.GroupPolicyList![0].PolicyDocument!))).toMatchObject({ Statement: [{ Action: 's3:*' }] });
      }
      for (const r of out.RoleDetailList ?? []) roles.push({ name: r.RoleName, last: r.RoleLastUsed?.LastUsedDate, policies: (r.AttachedManagedPolicies ?? []).map((a) => a.PolicyArn!) });
      for (const p of out.Policies ?? []) {
        const def = p.PolicyVersionList!.find((v) => v.IsDefaultVersion)!;
        policies.push({ arn: p.Arn, doc: decodeURIComponent(def.Document!), count: p.AttachmentCount });
      }
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    expect(pages).toBe(3);
    expect(users).toEqual(['alice']);
    expect(groups).toEqual(['Admins']);
    expect(roles).toEqual([
      { name: 'idle', last: undefined, policies: [] },
      { name: 'ops', last: new Date('2026-11-01T10:00:00Z'), policies: [created.Policy!.Arn] },
    ]);
    // AWS managed policies appear once attached in the account; the customer's always.
    expect(policies.map((p) => [p.arn, p.count])).toEqual([
      ['arn:aws:iam::aws:policy/AdministratorAccess', 1],
      [created.Policy!.Arn, 1],
    ]);
    expect(JSON.parse(policies[0].doc!)).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });

    const filtered = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'] }));
    expect([filtered.UserDetailList, filtered.GroupDetailList, filtered.Policies]).toEqual([[], [], []]);
    expect(filtered.RoleDetailList?.map((r) => r.RoleName)).toEqual(['idle', 'ops']);

    const full = await raw('GetAccountAuthorizationDetails', {});
    expect(full.status).toBe(200);
    expect(full.problems).toEqual([]);
    expect(full.xml).toContain('<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22');
    const bad = await raw('GetAccountAuthorizationDetails', { 'Filter.member.1': 'Users' });
    expect([bad.status, bad.xml]).toEqual([400, expect.stringContaining('<Code>ValidationError</Code>')]);
  });

  it('should attach and detach managed policies, refuse unknown ones and protected roles, and manage group membership', async () => {
    sim.createRole('attach-me');
    sim.createRole('AWSReservedSSO_Admin_0123456789abcdef', { path: '/aws-reserved/sso.amazonaws.com/' });
    const ro = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-me', PolicyArn: ro }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-me', PolicyArn: ro }));
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'attach-me' }))).AttachedPolicies).toEqual([{ PolicyName: 'ReadOnlyAccess', PolicyArn: ro }]);
    const err = (p: Promise<unknown>) => p.then(() => undefined, (e: { name: string; $metadata: { httpStatusCode: number } }) => [e.name, e.$metadata.httpStatusCode]);
    expect(await err(iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-me', PolicyArn: `arn:aws:iam::${OWN}:policy/none` })))).toEqual(['NoSuchEntityException', 404]);
    expect(await err(iam.send(new AttachRolePolicyCommand({ RoleName: 'AWSReservedSSO_Admin_0123456789abcdef', PolicyArn: ro })))).toEqual(['UnmodifiableEntityException', 400]);
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'attach-me', PolicyArn: ro }));
    expect(await err(iam.send(new DetachRolePolicyCommand({ RoleName: 'attach-me', PolicyArn: ro })))).toEqual(['NoSuchEntityException', 404]);
    const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess', VersionId: 'v5' }));
    expect(JSON.parse(decodeURIComponent(version.PolicyVersion!.Document!)).Statement[0].NotAction).toEqual(['iam:*', 'organizations:*', 'account:*']);
    for (const [action, params] of [
      ['ListAttachedRolePolicies', { RoleName: 'attach-me' }],
      ['GetPolicy', { PolicyArn: ro }],
      ['GetPolicyVersion', { PolicyArn: ro, VersionId: 'v120' }],
    ] as const) {
      expect((await raw(action, params)).problems).toEqual([]);
    }

    const bob = sim.createUser('bob');
    await iam.send(new CreateGroupCommand({ GroupName: 'Readers' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'Readers', UserName: 'bob' }));
    expect(sim.iamSeeds.groupsOf(bob)).toEqual(['Readers']);
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'Readers', UserName: 'bob' }));
    expect(sim.iamSeeds.groupsOf(bob)).toEqual([]);
    expect(await err(iam.send(new RemoveUserFromGroupCommand({ GroupName: 'Readers', UserName: 'bob' })))).toEqual(['NoSuchEntityException', 404]);
    sim.iamSeeds.setPasswordLastUsed(bob, new Date('2026-10-01T08:00:00Z'));
    expect((await iam.send(new GetUserCommand({ UserName: 'bob' }))).User).toMatchObject({ Arn: bob, PasswordLastUsed: new Date('2026-10-01T08:00:00Z') });
    expect((await raw('GetUser', { UserName: 'bob' })).problems).toEqual([]);
    expect((await raw('CreateGroup', { GroupName: 'Raw' })).problems).toEqual([]);
    await iam.send(new AddUserToGroupCommand({ GroupName: 'Readers', UserName: 'bob' }));
    const group = await iam.send(new GetGroupCommand({ GroupName: 'Readers', MaxItems: 1 }));
    expect(group.Group).toMatchObject({ GroupName: 'Readers', GroupId: expect.stringMatching(/^AGPA/), Arn: `arn:aws:iam::${OWN}:group/Readers` });
    expect(group.Users!.map((u) => u.UserName)).toEqual(['bob']);
    expect((await raw('GetGroup', { GroupName: 'Readers' })).problems).toEqual([]);
    expect(await err(iam.send(new GetGroupCommand({ GroupName: 'Nobody' })))).toEqual(['NoSuchEntityException', 404]);
  });

  it('should bind GetAccountAuthorizationDetails Markers to the last name returned, so paging under change skips nothing that stayed', async () => {
    for (const n of ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e']) sim.createRole(n);
    const names = async (marker?: string) => {
      const out = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], MaxItems: 2, Marker: marker }));
      return { names: out.RoleDetailList!.map((r) => r.RoleName!).filter((n) => n.startsWith('pg-')), marker: out.Marker };
    };
    const everyRole = (await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], MaxItems: 1000 }))).RoleDetailList!.map((r) => r.RoleName!);
    // Page up to pg-b, then remove a role listed before it and pg-b itself: the next page still starts at pg-c.
    let marker: string | undefined;
    const seen: string[] = [];
    do {
      const out = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], MaxItems: 2, Marker: marker }));
      seen.push(...out.RoleDetailList!.map((r) => r.RoleName!));
      marker = out.Marker;
    } while (!seen.includes('pg-b'));
    expect(seen.at(-1)).toBe('pg-b');
    sim.iamSeeds.deleteEntity(`arn:aws:iam::${OWN}:role/pg-a`);
    sim.iamSeeds.deleteEntity(`arn:aws:iam::${OWN}:role/pg-b`);
    const next = await names(marker);
    expect(next.names[0]).toBe('pg-c');
    expect(everyRole.indexOf('pg-c')).toBeGreaterThan(everyRole.indexOf('pg-b'));
    expect(await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], Marker: Buffer.from('7').toString('base64url') })).then(() => '', (e: Error) => e.name)).toBe('InvalidInputException');
  });

  it('should report services granted against services used through an asynchronous job, IN_PROGRESS first, paged', async () => {
    const user = sim.createUser('advised');
    sim.iamSeeds.attachPolicy(user, 'arn:aws:iam::aws:policy/AdministratorAccess');
    sim.iamSeeds.setServiceLastAccessed(user, 's3', new Date(Date.now() - 86_400_000));
    sim.iamSeeds.setServiceLastAccessed(user, 'ec2', new Date(Date.now() - 500 * 86_400_000));
    sim.iamSeeds.setAccessAdvisorPendingPolls(2);
    const { JobId } = await iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: user }));
    expect(JobId).toMatch(/^[0-9a-f-]{36}$/);
    const first = await iam.send(new GetServiceLastAccessedDetailsCommand({ JobId }));
    expect([first.JobStatus, first.ServicesLastAccessed ?? []]).toEqual(['IN_PROGRESS', []]);
    // Required in the model, but documented "null if the job is still in progress": absent from the XML until it ends.
    expect(first.JobCompletionDate).toBeUndefined();
    expect((await raw('GetServiceLastAccessedDetails', { JobId: JobId! })).problems).toEqual([]);
    const services: { ns?: string; last?: Date; total?: number }[] = [];
    let marker: string | undefined;
    do {
      const out = await iam.send(new GetServiceLastAccessedDetailsCommand({ JobId, MaxItems: 4, Marker: marker }));
      expect(out.JobStatus).toBe('COMPLETED');
      expect(out.JobCompletionDate).toBeInstanceOf(Date);
      services.push(...out.ServicesLastAccessed!.map((s) => ({ ns: s.ServiceNamespace, last: s.LastAuthenticated, total: s.TotalAuthenticatedEntities })));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    // AdministratorAccess grants every service; s3 was used yesterday, ec2 outside the 400-day tracking period.
    expect(services.length).toBeGreaterThan(10);
    expect(services.find((s) => s.ns === 's3')).toMatchObject({ total: 1, last: expect.any(Date) });
    expect(services.find((s) => s.ns === 'ec2')).toEqual({ ns: 'ec2', last: undefined, total: undefined });
    expect((await raw('GetServiceLastAccessedDetails', { JobId: JobId! })).problems).toEqual([]);
    expect((await raw('GenerateServiceLastAccessedDetails', { Arn: user })).problems).toEqual([]);
    const err = (p: Promise<unknown>) => p.then(() => undefined, (e: { name: string }) => e.name);
    expect(await err(iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: `arn:aws:iam::${OWN}:role/nobody` })))).toBe('NoSuchEntityException');
    expect(await err(iam.send(new GetServiceLastAccessedDetailsCommand({ JobId: '00000000-0000-0000-0000-000000000000' })))).toBe('NoSuchEntityException');
    sim.iamSeeds.setAccessAdvisorPendingPolls(1);
  });
});
