import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/**
 * Issue 2, "the bad inputs above": every malformed request is a 4xx problem+json that names the
 * offending field, never a 500, and leaves no grant row and no audit event behind.
 */
describe('bad input over HTTP', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker({ JIT_MIN_DURATION: 'PT1M', JIT_MAX_DURATION: 'PT8H', JIT_BODY_LIMIT: '8192' });
  });
  afterAll(async () => {
    await t.close();
  });

  const OID = '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';
  const GUID2 = '11111111-2222-4333-8444-555555555555';
  const SUB = '/subscriptions/00000000-1111-4222-8333-444444444444';
  const azure = (principal: object, target: object) => ({ cloud: 'azure', principal, target, duration: 'PT20M' });
  const gcp = (principal: object, target: object) => ({ cloud: 'gcp', principal, target, duration: 'PT20M' });
  const aws = (principal: object, target: object) => ({ cloud: 'aws', principal, target, duration: 'PT20M' });
  const sa = { type: 'workload', id: 'serviceAccount:ci@proj-123456.iam.gserviceaccount.com' };
  const role = { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' };
  const gcpTarget = { kind: 'gcp.iam-binding', resource: 'projects/proj-123456', role: 'roles/storage.objectAdmin' };
  const without = (key: string) => {
    const b: Record<string, unknown> = awsPolicyGrant();
    delete b[key];
    return b;
  };

  /** Counts of what a rejected request must not have written. */
  async function footprint(): Promise<{ grants: number; events: number }> {
    const grants = await t.http.get('/v1/grants?limit=500').set(t.as('admin')).expect(200);
    const head = await t.http.get('/v1/audit/verify').set(t.as('admin')).expect(200);
    expect(grants.body.nextCursor).toBeNull();
    return { grants: grants.body.items.length, events: head.body.head.seq };
  }

  beforeAll(async () => {
    // One valid grant so the list endpoints have something to page through and the counts are not trivially zero.
    await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant()).expect(201);
  });

  type Case = [name: string, body: unknown, field: string | RegExp];
  const grantBodies: Case[] = [
    // azure.directory-role
    ['directory role id not a GUID', azure({ type: 'user', id: OID }, { kind: 'azure.directory-role', roleDefinitionId: 'global-admin' }), 'target.roleDefinitionId'],
    ['directory scope not a scope', azure({ type: 'user', id: OID }, { kind: 'azure.directory-role', roleDefinitionId: GUID2, directoryScopeId: 'tenant' }), 'target.directoryScopeId'],
    ['Entra principal id not a GUID', azure({ type: 'user', id: 'alice@contoso.com' }, { kind: 'azure.directory-role', roleDefinitionId: GUID2 }), 'principal.id'],
    ['GUID one digit short', azure({ type: 'user', id: OID.slice(1) }, { kind: 'azure.directory-role', roleDefinitionId: GUID2 }), 'principal.id'],
    // azure.resource-role
    ['ARM scope malformed', azure({ type: 'group', id: OID }, { kind: 'azure.resource-role', scope: '/subscriptions/not-a-guid', roleDefinitionId: GUID2 }), 'target.scope'],
    ['ARM role definition malformed', azure({ type: 'group', id: OID }, { kind: 'azure.resource-role', scope: SUB, roleDefinitionId: 'Owner' }), 'target.roleDefinitionId'],
    // azure.group-membership
    ['group id not a GUID', azure({ type: 'user', id: OID }, { kind: 'azure.group-membership', groupId: 'admins', access: 'member' }), 'target.groupId'],
    ['group access not member/owner', azure({ type: 'user', id: OID }, { kind: 'azure.group-membership', groupId: GUID2, access: 'guest' }), 'target.access'],
    ['group membership for a workload', azure({ type: 'workload', id: OID }, { kind: 'azure.group-membership', groupId: GUID2, access: 'member' }), 'principal.type'],
    // azure.app-role
    ['app role id not a GUID', azure({ type: 'workload', id: OID }, { kind: 'azure.app-role', resourceServicePrincipalId: GUID2, appRoleId: 'User.Read' }), 'target.appRoleId'],
    ['app role for a user', azure({ type: 'user', id: OID }, { kind: 'azure.app-role', resourceServicePrincipalId: GUID2, appRoleId: GUID2 }), 'principal.type'],
    // aws.iam-policy
    ['action without service prefix', aws(role, { kind: 'aws.iam-policy', actions: ['PutObject'], resources: ['*'] }), 'target.actions[0]'],
    ['resource not an ARN', aws(role, { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['artifacts/*'] }), 'target.resources[0]'],
    ['empty actions', aws(role, { kind: 'aws.iam-policy', actions: [], resources: ['*'] }), 'target.actions'],
    ['condition on aws:CurrentTime', aws(role, { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'], conditions: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } } }), 'target.conditions'],
    ['principal ARN of an S3 bucket', aws({ type: 'workload', id: 'arn:aws:s3:::artifacts' }, { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] }), 'principal.id'],
    ['principal ARN with short account', aws({ type: 'workload', id: 'arn:aws:iam::12345:role/x' }, { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] }), 'principal.id'],
    ['AWS policy for a group', aws({ type: 'group', id: 'arn:aws:iam::123456789012:group/devs' }, { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] }), 'principal.type'],
    // aws.assume-role / aws.sts-credentials
    ['assume-role roleArn is a user', aws(role, { kind: 'aws.assume-role', roleArn: 'arn:aws:iam::123456789012:user/bob' }), 'target.roleArn'],
    ['sts roleArn malformed', aws(role, { kind: 'aws.sts-credentials', roleArn: 'role/deployer' }), 'target.roleArn'],
    ['sts session policy too large', aws(role, { kind: 'aws.sts-credentials', roleArn: 'arn:aws:iam::123456789012:role/r', sessionPolicy: { x: 'y'.repeat(2100) } }), 'target.sessionPolicy'],
    // gcp.iam-binding
    ['GCP member without prefix', gcp({ type: 'user', id: 'alice@example.com' }, gcpTarget), 'principal.id'],
    ['GCP member allUsers', gcp({ type: 'group', id: 'allUsers' }, gcpTarget), 'principal.id'],
    ['GCP resource malformed', gcp(sa, { ...gcpTarget, resource: 'project/proj-123456' }), 'target.resource'],
    ['GCP folder not numeric', gcp(sa, { ...gcpTarget, resource: 'folders/engineering' }), 'target.resource'],
    ['GCP role without roles/', gcp(sa, { ...gcpTarget, role: 'storage.objectAdmin' }), 'target.role'],
    ['GCP basic role owner', gcp(sa, { ...gcpTarget, role: 'roles/owner' }), 'target.role'],
    ['GCP basic role editor', gcp(sa, { ...gcpTarget, role: 'roles/editor' }), 'target.role'],
    ['GCP basic role viewer', gcp(sa, { ...gcpTarget, role: 'roles/viewer' }), 'target.role'],
    // kind, cloud and shape
    ['cloud/kind mismatch (aws cloud, gcp kind)', { ...gcp(sa, gcpTarget), cloud: 'aws' }, 'target.kind'],
    ['cloud/kind mismatch (gcp cloud, azure kind)', { ...azure({ type: 'workload', id: OID }, { kind: 'azure.app-role', resourceServicePrincipalId: GUID2, appRoleId: GUID2 }), cloud: 'gcp' }, 'target.kind'],
    ['unknown cloud', awsPolicyGrant({ cloud: 'oracle' }), 'cloud'],
    ['unknown target kind', awsPolicyGrant({ target: { kind: 'aws.root-access' } }), 'target.kind'],
    ['target without kind', awsPolicyGrant({ target: { actions: ['s3:GetObject'], resources: ['*'] } }), 'target.kind'],
    ['unknown target field', awsPolicyGrant({ target: { kind: 'aws.assume-role', roleArn: 'arn:aws:iam::123456789012:role/r', mfa: true } }), 'target.mfa'],
    ['unknown top-level field', awsPolicyGrant({ approver: 'me' }), 'approver'],
    ['unknown principal type', awsPolicyGrant({ principal: { type: 'robot', id: role.id } }), 'principal.type'],
    ['missing cloud', without('cloud'), 'cloud'],
    ['missing principal', without('principal'), 'principal'],
    ['missing target', without('target'), 'target'],
    ['missing duration', without('duration'), 'duration'],
    ['principal id empty', awsPolicyGrant({ principal: { type: 'workload', id: '' } }), 'principal.id'],
    ['justification blank', awsPolicyGrant({ justification: '   ' }), 'justification'],
    ['justification with a NUL character', awsPolicyGrant({ justification: 'release\u0000 1.4' }), 'justification'],
    ['ARM scope with ".." segments', azure({ type: 'group', id: OID }, { kind: 'azure.resource-role', scope: `${SUB}/resourceGroups/rg/providers/a/b/c/../../../../../..`, roleDefinitionId: GUID2 }), 'target.scope'],
    ['role definition with ".." segments', azure({ type: 'group', id: OID }, { kind: 'azure.resource-role', scope: SUB, roleDefinitionId: `/providers/Microsoft.Management/managementGroups/../providers/Microsoft.Authorization/roleDefinitions/${GUID2}` }), 'target.roleDefinitionId'],
    ['a whole GCP domain declared as a user', gcp({ type: 'user', id: 'domain:example.com' }, gcpTarget), 'principal.type'],
    ['ticket not printable', awsPolicyGrant({ ticket: 'CHG\n1' }), 'ticket'],
    ['body is an array', [awsPolicyGrant()], '(body)'],
    // durations
    ['duration not ISO-8601', awsPolicyGrant({ duration: '20 minutes' }), 'duration'],
    ['duration a number', awsPolicyGrant({ duration: 1200 }), 'duration'],
    ['duration in months', awsPolicyGrant({ duration: 'P1M' }), 'duration'],
    ['duration negative', awsPolicyGrant({ duration: '-PT20M' }), 'duration'],
    ['duration zero', awsPolicyGrant({ duration: 'PT0S' }), 'duration'],
    ['duration below JIT_MIN_DURATION', awsPolicyGrant({ duration: 'PT59S' }), 'duration'],
    ['duration above JIT_MAX_DURATION', awsPolicyGrant({ duration: 'PT8H1S' }), 'duration'],
    ['duration of days above the maximum', awsPolicyGrant({ duration: 'P1D' }), 'duration'],
  ];

  it.each(grantBodies)('POST /v1/grants: %s -> 400', async (_name, body, field) => {
    const before = await footprint();
    const res = await t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json').send(JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'urn:jit-broker:problem:validation', status: 400 });
    expect(typeof res.body.detail).toBe('string');
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toContainEqual(field);
    expect(await footprint()).toEqual(before);
  });

  const raw = (
    name: string,
    send: () => Promise<{ status: number; headers: Record<string, string>; body: { errors?: { field: string }[]; status?: number } }>,
    status: number,
    field: string,
  ): [string, typeof send, number, string] => [name, send, status, field];

  const rawRequests = [
    raw('oversized body', () => t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ justification: 'x'.repeat(9000) })), 413, '(body)'),
    raw('text/plain body', () => t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'text/plain').send(JSON.stringify(awsPolicyGrant())), 415, 'Content-Type'),
    raw('form-encoded body', () => t.http.post('/v1/grants').set(t.as('alice')).type('form').send({ cloud: 'aws' }), 415, 'Content-Type'),
    raw('JSON declared UTF-16', () => t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json; charset=utf-16').send(JSON.stringify(awsPolicyGrant())), 415, 'Content-Type'),
    raw('body with an unknown Content-Encoding', () => t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json').set('Content-Encoding', 'compress').send(JSON.stringify(awsPolicyGrant())), 415, 'Content-Encoding'),
    raw('body nested deeper than 32 levels', () => t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json').send('['.repeat(3000) + ']'.repeat(3000)), 400, '[0]'.repeat(32)),
    raw('a number beyond double range (1e400) in a session policy', () => t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json').send(JSON.stringify(aws(role, { kind: 'aws.sts-credentials', roleArn: 'arn:aws:iam::123456789012:role/r', sessionPolicy: { x: 'N' } })).replace('"N"', '1e400')), 400, 'target.sessionPolicy.x'),
    raw('malformed JSON', () => t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json').send('{"cloud": "aws",'), 400, '(body)'),
    raw('JSON with trailing garbage', () => t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json').send('{"cloud": "aws"} x'), 400, '(body)'),
    raw('a bare JSON string as body', () => t.http.post('/v1/grants').set(t.as('alice')).set('Content-Type', 'application/json').send('"grant me"'), 400, '(body)'),
    raw('no body at all', () => t.http.post('/v1/grants').set(t.as('alice')), 400, '(body)'),
    raw('Idempotency-Key too long', () => t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'k'.repeat(256)).send(awsPolicyGrant()), 400, 'Idempotency-Key'),
    raw('Idempotency-Key with a space', () => t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'two words').send(awsPolicyGrant()), 400, 'Idempotency-Key'),
    raw('Idempotency-Key empty', () => t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', '').send(awsPolicyGrant()), 400, 'Idempotency-Key'),
    raw('GET unknown grant id', () => t.http.get('/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e').set(t.as('admin')), 404, 'id'),
    raw('GET malformed grant id', () => t.http.get('/v1/grants/not-a-uuid').set(t.as('admin')), 400, 'id'),
    raw('revoke unknown grant id', () => t.http.post('/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e/revoke').set(t.as('admin')).send({ reason: 'x' }), 404, 'id'),
    raw('revoke malformed grant id', () => t.http.post('/v1/grants/12345/revoke').set(t.as('admin')).send({}), 400, 'id'),
    raw('revoke with unknown body field', () => t.http.post('/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e/revoke').set(t.as('admin')).send({ why: 'x' }), 400, 'why'),
    raw('revoke with force not boolean', () => t.http.post('/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e/revoke').set(t.as('admin')).send({ force: 'yes' }), 400, 'force'),
    raw('grants: unknown query param', () => t.http.get('/v1/grants?colour=red').set(t.as('admin')), 400, 'colour'),
    raw('grants: NUL in a query filter', () => t.http.get('/v1/grants?principal=a%00b').set(t.as('admin')), 400, 'principal'),
    raw('audit: NUL in a query filter', () => t.http.get('/v1/audit?actor=a%00b').set(t.as('admin')), 400, 'actor'),
    raw('approve with a NUL in the comment', () => t.http.post('/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e/approve').set(t.as('approver')).send({ comment: 'o\u0000k' }), 400, 'comment'),
    raw('approve with unknown body field', () => t.http.post('/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e/approve').set(t.as('approver')).send({ reason: 'x' }), 400, 'reason'),
    raw('deny with a comment that is not text', () => t.http.post('/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e/deny').set(t.as('approver')).send({ comment: 42 }), 400, 'comment'),
    raw('grants: limit 0', () => t.http.get('/v1/grants?limit=0').set(t.as('admin')), 400, 'limit'),
    raw('grants: limit above 500', () => t.http.get('/v1/grants?limit=501').set(t.as('admin')), 400, 'limit'),
    raw('grants: limit not a number', () => t.http.get('/v1/grants?limit=ten').set(t.as('admin')), 400, 'limit'),
    raw('grants: limit fractional', () => t.http.get('/v1/grants?limit=2.5').set(t.as('admin')), 400, 'limit'),
    raw('grants: cursor garbage', () => t.http.get('/v1/grants?cursor=%21%21%21').set(t.as('admin')), 400, 'cursor'),
    raw('grants: cursor of the audit list', () => t.http.get(`/v1/grants?cursor=${Buffer.from('{"s":3}').toString('base64url')}`).set(t.as('admin')), 400, 'cursor'),
    raw('grants: cursor with SQL in it', () => t.http.get(`/v1/grants?cursor=${Buffer.from(JSON.stringify({ t: "2020-01-01'; DROP TABLE grants;--", i: 'x' })).toString('base64url')}`).set(t.as('admin')), 400, 'cursor'),
    raw('grants: bad from date', () => t.http.get('/v1/grants?from=yesterday').set(t.as('admin')), 400, 'from'),
    raw('grants: date without offset', () => t.http.get('/v1/grants?to=2025-01-01T00:00:00').set(t.as('admin')), 400, 'to'),
    raw('grants: unknown state', () => t.http.get('/v1/grants?state=sleeping').set(t.as('admin')), 400, 'state'),
    raw('grants: unknown cloud', () => t.http.get('/v1/grants?cloud=oci').set(t.as('admin')), 400, 'cloud'),
    raw('grants: repeated param', () => t.http.get('/v1/grants?cloud=aws&cloud=gcp').set(t.as('admin')), 400, 'cloud'),
    raw('audit: unknown query param', () => t.http.get('/v1/audit?grant=1').set(t.as('admin')), 400, 'grant'),
    raw('audit: limit above 1000', () => t.http.get('/v1/audit?limit=1001').set(t.as('admin')), 400, 'limit'),
    raw('audit: negative limit', () => t.http.get('/v1/audit?limit=-1').set(t.as('admin')), 400, 'limit'),
    raw('audit: cursor garbage', () => t.http.get('/v1/audit?cursor=eyJzIjotMX0').set(t.as('admin')), 400, 'cursor'),
    raw('audit: cursor of the grants list', () => t.http.get(`/v1/audit?cursor=${Buffer.from(JSON.stringify({ t: new Date().toISOString(), i: '0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e' })).toString('base64url')}`).set(t.as('admin')), 400, 'cursor'),
    raw('audit: bad to date', () => t.http.get('/v1/audit?to=2025-13-45T00:00:00Z').set(t.as('admin')), 400, 'to'),
    raw('audit: grantId not a UUID', () => t.http.get('/v1/audit?grantId=42').set(t.as('admin')), 400, 'grantId'),
    raw('audit: unknown event type', () => t.http.get('/v1/audit?type=grant.stolen').set(t.as('admin')), 400, 'type'),
    raw('audit: unknown format', () => t.http.get('/v1/audit?format=xml').set(t.as('admin')), 400, 'format'),
    raw('audit export: bad filter', () => t.http.get('/v1/audit?format=csv&from=nope').set(t.as('admin')), 400, 'from'),
  ];

  it.each(rawRequests)('%s -> %d naming %s', async (_name, send, status, field) => {
    const before = await footprint();
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.status).toBe(status);
    expect((res.body.errors ?? []).map((e) => e.field)).toContainEqual(field);
    expect(await footprint()).toEqual(before);
  });

  it('should accept the boundary durations exactly (JIT_MIN_DURATION and JIT_MAX_DURATION are inclusive)', async () => {
    await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT1M' })).expect(201);
    await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT8H' })).expect(201);
  });

  it('should answer headers too large for the HTTP parser with a 431 problem, not a bare status line', async () => {
    const res = await fetch(`${t.broker.url}/v1/grants`, { headers: { Authorization: `Bearer ${'x'.repeat(20_000)}` } });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 431, type: 'urn:jit-broker:problem:headers_too_large', errors: [{ field: '(headers)' }] });
    // The broker goes on serving.
    expect((await t.http.get('/v1/grants').set(t.as('alice'))).status).toBe(200);
  });

  it('should report every bad field of one request, not just the first', async () => {
    const res = await t.http
      .post('/v1/grants')
      .set(t.as('alice'))
      .send(gcp({ type: 'workload', id: 'nobody' }, { ...gcpTarget, role: 'roles/owner' }))
      .expect(400);
    // The schema rejects the role first; the principal is checked only once the shape is right.
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('target.role');
    const shapeOk = await t.http
      .post('/v1/grants')
      .set(t.as('alice'))
      .send({ ...gcp({ type: 'workload', id: 'nobody' }, gcpTarget), cloud: 'aws', duration: 'PT1S' })
      .expect(400);
    expect(shapeOk.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['duration', 'principal.id', 'target.kind']);
  });
});
