import { DomainError } from './grant.exception';
import { parseGrantRequest } from './grant-request';
import { targetKinds } from '@jit/testing';

const bounds = { minSeconds: 60, maxSeconds: 8 * 3600 };
const valid = {
  cloud: 'aws',
  principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' },
  target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
  duration: 'PT20M',
};

function fieldsOf(body: unknown): string[] {
  try {
    parseGrantRequest(body, bounds, targetKinds);
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return (e as DomainError).issues.map((i) => i.field);
  }
  throw new Error('expected a validation error');
}

describe(parseGrantRequest.name, () => {
  it('should accept a valid request and convert the duration to seconds', () => {
    expect(parseGrantRequest(valid, bounds, targetKinds)).toMatchObject({ cloud: 'aws', durationSeconds: 1200, justification: null });
  });

  it('should default the Entra directory scope to the tenant', () => {
    const r = parseGrantRequest(
      {
        cloud: 'azure',
        principal: { type: 'user', id: '11111111-0000-4000-8000-000000000001' },
        target: { kind: 'azure.directory-role', roleDefinitionId: '5d6b6bb7-de71-4623-b4af-96380a352509' },
        duration: 'PT1H',
      },
      bounds,
      targetKinds,
    );
    expect(r.target).toMatchObject({ directoryScopeId: '/' });
  });

  it.each([
    ['an unknown kind', { ...valid, target: { kind: 'aws.root' } }, 'target.kind'],
    ['a kind of another cloud', { ...valid, cloud: 'gcp' }, 'target.kind'],
    ['a duration below the minimum', { ...valid, duration: 'PT30S' }, 'duration'],
    ['a duration above the maximum', { ...valid, duration: 'PT9H' }, 'duration'],
    ['a duration in months', { ...valid, duration: 'P1M' }, 'duration'],
    ['a malformed duration', { ...valid, duration: '20 minutes' }, 'duration'],
    ['a principal that is not an IAM ARN', { ...valid, principal: { type: 'workload', id: 'ci-deployer' } }, 'principal.id'],
    ['an action without a service', { ...valid, target: { ...valid.target, actions: ['PutObject'] } }, 'target.actions[0]'],
    ['an unknown field', { ...valid, extra: 1 }, 'extra'],
    ['a GCP basic role', {
      cloud: 'gcp', principal: { type: 'user', id: 'user:a@example.com' },
      target: { kind: 'gcp.iam-binding', resource: 'projects/my-project', role: 'roles/owner' }, duration: 'PT1H',
    }, 'target.role'],
    ['a GCP member whose prefix contradicts the type', {
      cloud: 'gcp', principal: { type: 'user', id: 'serviceAccount:ci@p.iam.gserviceaccount.com' },
      target: { kind: 'gcp.iam-binding', resource: 'projects/my-project', role: 'roles/viewer.x' }, duration: 'PT1H',
    }, 'principal.type'],
    ['allUsers', {
      cloud: 'gcp', principal: { type: 'group', id: 'allUsers' },
      target: { kind: 'gcp.iam-binding', resource: 'projects/my-project', role: 'roles/storage.objectViewer' }, duration: 'PT1H',
    }, 'principal.id'],
    ['an app role for a user', {
      cloud: 'azure', principal: { type: 'user', id: '11111111-0000-4000-8000-000000000001' },
      target: { kind: 'azure.app-role', resourceServicePrincipalId: '11111111-0000-4000-8000-000000000002', appRoleId: '11111111-0000-4000-8000-000000000003' },
      duration: 'PT1H',
    }, 'principal.type'],
    ['an ARM scope that is not one', {
      cloud: 'azure', principal: { type: 'user', id: '11111111-0000-4000-8000-000000000001' },
      target: { kind: 'azure.resource-role', scope: '/subscriptions/nope', roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7' },
      duration: 'PT1H',
    }, 'target.scope'],
  ])('should refuse %s, naming the field', (_, body, field) => {
    expect(fieldsOf(body)).toContain(field);
  });
  it.each([
    ['a lone surrogate in the justification', { ...valid, justification: 'ok \ud800' }, 'justification'],
    ['a lone surrogate in a principal id', { ...valid, principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/\udc00' } }, 'principal.id'],
    ['a lone surrogate in an object key', { ...valid, target: { ...valid.target, conditions: { StringEquals: { '\ud800': 'x' } } } }, 'target.conditions.StringEquals.\ufffd'],
    ['a lone surrogate in an unknown field', { ...valid, ['x\udfff']: 1 }, 'x\ufffd'],
  ])('should refuse %s before anything else, naming the field', (_, body, field) => {
    expect(fieldsOf(body)).toEqual([field]);
  });

  it.each([
    ['an IAM role ARN outside IAM\'s name characters', { ...valid, principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/déploy' } }],
    ['an IAM role ARN with full-width digits', { ...valid, principal: { type: 'workload', id: 'arn:aws:iam::１２３456789012:role/ci' } }],
    ['an STS caller id outside printable ASCII', { ...valid, principal: { type: 'workload', id: 'ci-é' }, target: { kind: 'aws.sts-credentials', roleArn: 'arn:aws:iam::123456789012:role/r' } }],
    ['an Entra object id with full-width digits', {
      cloud: 'azure', principal: { type: 'user', id: '１1111111-0000-4000-8000-000000000001' },
      target: { kind: 'azure.directory-role', roleDefinitionId: '5d6b6bb7-de71-4623-b4af-96380a352509' }, duration: 'PT1H',
    }],
  ])('should refuse %s: principal ids follow the cloud\'s ASCII character set', (_, body) => {
    expect(fieldsOf(body)).toEqual(['principal.id']);
  });

  it('should accept well-formed text beyond ASCII where a field allows it', () => {
    expect(parseGrantRequest({ ...valid, justification: 'déploiement 🚀' }, bounds, targetKinds).justification).toBe('déploiement 🚀');
  });

  const gcpUser = (id: string) => ({
    cloud: 'gcp',
    principal: { type: 'user', id },
    target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/storage.objectViewer' },
    duration: 'PT20M',
  });
  it.each(['user:josé@example.com', 'user:ann@exämple.com', 'user:ann@example.cöm', 'user:ann@xn--bcher-kva', 'user:a b@example.com', 'user:ann@@example.com', 'user:ann@-example.com', 'user:\uff41nn@example.com'])(
    'should refuse the GCP member %s: Google account emails are ASCII addresses',
    (id) => {
      expect(fieldsOf(gcpUser(id))).toEqual(['principal.id']);
    },
  );
  it.each(["user:o'neil+ci@example.com", 'user:ann.lee@mail.example.co.uk', 'user:x@xn--bcher-kva.example'])('should accept the GCP member %s', (id) => {
    expect(parseGrantRequest(gcpUser(id), bounds, targetKinds).principal.id).toBe(id);
  });

  it('should take a GCP member\'s type from its form: domains and pools are groups, workforce identities people, workload identities workloads', () => {
    const gcp = (type: string, id: string) => ({
      cloud: 'gcp',
      principal: { type, id },
      target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/storage.objectViewer' },
      duration: 'PT20M',
    });
    const workforce = 'principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/ann@acme.com';
    const workload = 'principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/gh/subject/repo:acme/app';
    expect(fieldsOf(gcp('user', 'domain:acme.com'))).toEqual(['principal.type']);
    expect(fieldsOf(gcp('workload', workforce))).toEqual(['principal.type']);
    expect(fieldsOf(gcp('user', workload))).toEqual(['principal.type']);
    expect(fieldsOf(gcp('user', 'serviceAccount:ci@acme-prod.iam.gserviceaccount.com'))).toEqual(['principal.type']);
    expect(parseGrantRequest(gcp('user', workforce), bounds, targetKinds).principal.type).toBe('user');
    expect(parseGrantRequest(gcp('workload', workload), bounds, targetKinds).principal.type).toBe('workload');
  });
});

describe(`${parseGrantRequest.name} outside the duration bounds`, () => {
  it('should say what the bounds are, marked as a configured bound, without naming settings or the API', () => {
    let issues: DomainError['issues'] = [];
    try {
      parseGrantRequest({ ...valid, duration: 'PT59S' }, bounds, targetKinds);
    } catch (e) {
      issues = (e as DomainError).issues;
    }
    expect(issues).toEqual([{ field: 'duration', message: 'must be between 60s and 28800s', bound: 'duration' }]);
  });
});
