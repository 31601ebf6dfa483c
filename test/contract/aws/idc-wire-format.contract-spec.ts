import { CreateAccountAssignmentCommand, CreatePermissionSetCommand, DescribeAccountAssignmentCreationStatusCommand, ListAccountAssignmentsCommand, ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { GetGroupIdCommand, GetUserIdCommand, IdentitystoreClient, ListGroupMembershipsCommand } from '@aws-sdk/client-identitystore';
import { DescribeOrganizationCommand, ListAccountsForParentCommand, ListOrganizationalUnitsForParentCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AwsSimulator } from '@jit/sim-aws';
import { AWS_JSON_MODELS as JSON_MODELS } from '@jit/sim-aws';
import { SERVICES, Service, check, checkCall, models, paginators, withoutDocs } from './aws-json-models';

describe('Identity Center, Identity Store and Organizations simulator against the botocore models', () => {
  let sim: AwsSimulator;
  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
  });
  afterAll(() => sim.close());

  it('should serve a generated model subset that is still exactly the botocore model, for the operations the simulator serves', () => {
    for (const service of Object.keys(SERVICES) as Service[]) {
      const generated = JSON_MODELS[service];
      const model = models[service];
      expect([service, generated.targetPrefix, generated.apiVersion]).toEqual([service, model.metadata.targetPrefix, model.metadata.apiVersion]);
      for (const [name, op] of Object.entries(generated.operations)) {
        const real = model.operations[name];
        expect([service, name, real !== undefined]).toEqual([service, name, true]);
        expect([name, op.input, op.output]).toEqual([name, real.input?.shape, real.output?.shape]);
        expect([name, op.errors]).toEqual([name, (real.errors ?? []).map((e) => e.shape)]);
        // Same input and output member names as the model.
        for (const ref of [real.input, real.output]) {
          if (!ref) continue;
          expect([name, Object.keys(generated.shapes[ref.shape].members ?? {})]).toEqual([name, Object.keys(model.shapes[ref.shape].members ?? {})]);
        }
        expect([name, op.paginator]).toEqual([name, withoutDocs(paginators[service][name])]);
      }
      for (const [name, shape] of Object.entries(generated.shapes)) expect([service, name, shape]).toEqual([service, name, withoutDocs(model.shapes[name])]);
    }
  });

  it('should answer every served operation and refuse the model\'s other operations as unknown', async () => {
    const call = async (service: Service, operation: string) => {
      const model = models[service];
      const res = await fetch(sim.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `${model.metadata.targetPrefix}.${operation}`,
          authorization: `AWS4-HMAC-SHA256 Credential=AKIATEST/20261205/us-east-1/${model.metadata.signingName ?? model.metadata.endpointPrefix}/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: '{}',
      });
      return ((await res.json()) as { __type?: string }).__type;
    };
    for (const service of Object.keys(SERVICES) as Service[]) {
      const served = Object.keys(JSON_MODELS[service].operations);
      for (const operation of served) expect([service, operation, await call(service, operation)]).not.toEqual([service, operation, 'UnknownOperationException']);
      const other = Object.keys(models[service].operations).find((o) => !served.includes(o))!;
      expect([service, other, await call(service, other)]).toEqual([service, other, 'UnknownOperationException']);
    }
  });

  it('should receive only modeled members from the SDK and answer with modeled members within the model\'s constraints', async () => {
    const common = { region: 'eu-west-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIAWIRE', secretAccessKey: 's' }, maxAttempts: 1 };
    const sso = new SSOAdminClient(common);
    const ids = new IdentitystoreClient(common);
    const org = new OrganizationsClient(common);
    const ou = sim.organization.createOrganizationalUnit('wire');
    const account = sim.organization.createAccount({ name: 'wire', parentId: ou });
    const user = sim.identityCenter.createUser({ userName: 'wire', email: 'wire@example.com', givenName: 'W', familyName: 'Ire' });
    const group = sim.identityCenter.createGroup({ displayName: 'wire-group' });
    sim.identityCenter.addToGroup(group, user);
    sim.identityCenter.setTiming({ polls: 1 });
    sim.identityCenter.clearRequests();

    const instance = (await sso.send(new ListInstancesCommand({}))).Instances![0];
    const storeId = instance.IdentityStoreId!;
    const userId = (await ids.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'wire' } } }))).UserId!;
    const groupId = (await ids.send(new GetGroupIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'wire-group' } } }))).GroupId!;
    await ids.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: groupId }));
    await org.send(new DescribeOrganizationCommand({}));
    const root = (await org.send(new ListRootsCommand({}))).Roots![0].Id!;
    await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: root }));
    await org.send(new ListAccountsForParentCommand({ ParentId: ou }));
    const ps = (await sso.send(new CreatePermissionSetCommand({ InstanceArn: instance.InstanceArn, Name: 'Wire', SessionDuration: 'PT2H', Tags: [{ Key: 'k', Value: 'v' }] }))).PermissionSet!;
    for (const [PrincipalType, PrincipalId] of [['USER', userId], ['GROUP', groupId]] as const) {
      const created = await sso.send(new CreateAccountAssignmentCommand({ InstanceArn: instance.InstanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: ps.PermissionSetArn, PrincipalType, PrincipalId }));
      for (let i = 0; i < 2; i++) {
        await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: instance.InstanceArn, AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus!.RequestId }));
      }
    }
    await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: instance.InstanceArn, AccountId: account, PermissionSetArn: ps.PermissionSetArn }));
    // Errors too: each must be one the operation declares.
    await ids.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'nobody' } } })).catch(() => undefined);
    await sso.send(new CreatePermissionSetCommand({ InstanceArn: instance.InstanceArn, Name: 'Wire' })).catch(() => undefined);
    sim.inject({ throttle: 3 });
    await sso.send(new ListInstancesCommand({})).catch(() => undefined);
    await ids.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: groupId })).catch(() => undefined);
    await org.send(new ListRootsCommand({})).catch(() => undefined);
    sso.destroy();
    ids.destroy();
    org.destroy();

    const calls = sim.identityCenter.requests();
    expect(calls.filter((c) => c.status !== 200).map((c) => c.errorCode)).toEqual([
      'ResourceNotFoundException', 'ConflictException', 'ThrottlingException', 'ThrottlingException', 'TooManyRequestsException',
    ]);
    expect(calls.flatMap(checkCall)).toEqual([]);
  });

  it('should put the error code in __type and the modeled members in the body, with x-amzn-RequestId', async () => {
    const res = await fetch(sim.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSIdentityStore.DescribeUser',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIATEST/20261205/us-east-1/identitystore/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ IdentityStoreId: sim.identityCenter.identityStoreId, UserId: '0123456789-00000000-0000-4000-8000-000000000000' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ __type: 'ResourceNotFoundException', Message: 'User not found.', ResourceType: 'USER', ResourceId: '0123456789-00000000-0000-4000-8000-000000000000', RequestId: res.headers.get('x-amzn-requestid') });
    expect(check(models.identitystore, 'ResourceNotFoundException', Object.fromEntries(Object.entries(body).filter(([k]) => k !== '__type')), 'error')).toEqual([]);
    const wrongScope = await fetch(sim.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'SWBExternalService.ListInstances',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIATEST/20261205/us-east-1/sso-admin/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    expect([wrongScope.status, ((await wrongScope.json()) as { __type: string }).__type]).toEqual([403, 'InvalidSignatureException']);
    const form = await fetch(sim.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-target': 'SWBExternalService.ListInstances', authorization: 'AWS4-HMAC-SHA256 Credential=AKIATEST/20261205/us-east-1/sso/aws4_request' },
      body: '{}',
    });
    expect(((await form.json()) as { __type: string }).__type).toBe('SerializationException');
    const typed = await fetch(sim.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SWBExternalService.ListInstances', authorization: 'AWS4-HMAC-SHA256 Credential=AKIATEST/20261205/us-east-1/sso/aws4_request' },
      body: '{"MaxResults":"10"}',
    });
    expect(((await typed.json()) as { __type: string }).__type).toBe('SerializationException');
    const unknownSession = await fetch(sim.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'SWBExternalService.ListInstances',
        'x-amz-security-token': 'forged',
        authorization: 'AWS4-HMAC-SHA256 Credential=ASIAFORGED/20261205/us-east-1/sso/aws4_request',
      },
      body: '{}',
    });
    expect([unknownSession.status, ((await unknownSession.json()) as { __type: string }).__type]).toEqual([403, 'UnrecognizedClientException']);
    const unsigned = await fetch(sim.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSOrganizationsV20161128.ListRoots' }, body: '{}' });
    expect([unsigned.status, ((await unsigned.json()) as { __type: string }).__type]).toEqual([403, 'MissingAuthenticationTokenException']);
  });
});
