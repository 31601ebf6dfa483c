import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandingAssignment } from '@jit/domain';
import { DEFAULT_PRIVILEGE_CRITERIA, isWildcardAction, judge, loadPrivilegeCriteria } from './privilege-criteria';

type Access = StandingAssignment['access'];
const aws = (access: Partial<Access>) => ({ cloud: 'aws' as const, access: { type: 'aws.inline-policy', name: 'p', ...access } });
const azure = (access: Partial<Access>) => ({ cloud: 'azure' as const, access: { type: 'azure.role-assignment', name: 'Reader', ...access } });
const gcp = (name: string) => ({ cloud: 'gcp' as const, access: { type: 'gcp.role-binding', name } });

describe('privilege criteria', () => {
  it.each([
    ['*', true],
    ['s3:*', true],
    ['Microsoft.Compute/*', true],
    ['storage.*', true],
    ['s3:Get*', false],
    ['s3:GetObject', false],
  ])('should call %s a wildcard action: %s', (action, wild) => {
    expect(isWildcardAction(action)).toBe(wild);
  });

  it.each<[string, ReturnType<typeof aws | typeof azure | typeof gcp>, RegExp | null]>([
    ['AdministratorAccess by name', aws({ type: 'aws.managed-policy', name: 'AdministratorAccess', actions: ['*'] }), /privileged role: AdministratorAccess/],
    ['a wildcard action', aws({ actions: ['s3:*'] }), /wildcard actions: s3:\*/],
    ['iam:PassRole', aws({ actions: ['ec2:RunInstances', 'iam:PassRole'] }), /can escalate: iam:PassRole/],
    ['iam:PutRolePolicy through iam:Put*Policy', aws({ actions: ['iam:PutRolePolicy'] }), /can escalate: iam:Put\*Policy/],
    ['iam:Attach* through a granted iam:Attach*', aws({ actions: ['iam:Attach*'] }), /can escalate: iam:Attach\*Policy/],
    ['iam:CreateAccessKey', aws({ actions: ['iam:CreateAccessKey'] }), /can escalate: iam:CreateAccessKey/],
    ['sts:AssumeRole', aws({ actions: ['sts:AssumeRole'] }), /can escalate: sts:AssumeRole/],
    ['a NotAction allow', aws({ actions: [], notActions: ['iam:*'] }), /every action except 1/],
    ['read-only S3', aws({ actions: ['s3:GetObject', 's3:ListBucket'] }), null],
    ['Owner', azure({ name: 'Owner' }), /privileged role: Owner/],
    ['Contributor', azure({ name: 'Contributor', actions: ['*'], notActions: ['Microsoft.Authorization/*/Write'] }), /privileged role: Contributor/],
    ['User Access Administrator', azure({ name: 'User Access Administrator' }), /privileged role/],
    ['Global Administrator', azure({ type: 'azure.directory-role', name: 'Global Administrator' }), /privileged role: Global Administrator/],
    ['Global Administrator by template id', azure({ type: 'azure.directory-role', name: 'Company Admin', id: '62e90394-69f5-4237-9190-012177145e10' }), /privileged role: Company Admin/],
    ['a custom role writing role assignments', azure({ name: 'Deployer', actions: ['Microsoft.Authorization/roleAssignments/write'] }), /can escalate/],
    ['Reader', azure({ name: 'Reader', actions: ['*/read'] }), null],
    ['roles/owner', gcp('roles/owner'), /privileged role: roles\/owner/],
    ['roles/editor', gcp('roles/editor'), /privileged role/],
    ['roles/storage.admin', gcp('roles/storage.admin'), /privileged role: roles\/storage\.admin/],
    ['roles/compute.instanceAdmin', gcp('roles/compute.instanceAdmin'), /privileged role/],
    ['roles/viewer', gcp('roles/viewer'), null],
    ['roles/storage.objectViewer', gcp('roles/storage.objectViewer'), null],
  ])('should judge %s', (_name, assignment, reason) => {
    const j = judge(assignment, DEFAULT_PRIVILEGE_CRITERIA);
    expect(j.privileged).toBe(reason !== null);
    if (reason) expect(j.reasons.join('; ')).toMatch(reason);
    else expect(j.reasons).toEqual([]);
  });

  it('should take an override file that replaces the lists it gives and keeps the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-criteria-'));
    const file = join(dir, 'criteria.yaml');
    writeFileSync(file, 'privilegedRoles:\n  aws: [ReadOnlyAccess]\nwildcardActions: false\n');
    const criteria = loadPrivilegeCriteria(file);
    expect(judge(aws({ type: 'aws.managed-policy', name: 'ReadOnlyAccess' }), criteria).privileged).toBe(true);
    expect(judge(aws({ type: 'aws.managed-policy', name: 'AdministratorAccess' }), criteria).privileged).toBe(false);
    expect(judge(aws({ actions: ['s3:*'] }), criteria).privileged).toBe(false);
    expect(judge(gcp('roles/owner'), criteria).privileged).toBe(true);
  });

  it('should refuse an override file with an unknown field, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-criteria-'));
    const file = join(dir, 'criteria.json');
    writeFileSync(file, '{"privilegedRole": {"aws": ["X"]}}');
    expect(() => loadPrivilegeCriteria(file)).toThrow(/privilegedRole/);
  });
});
