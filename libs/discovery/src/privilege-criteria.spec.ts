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

  it.each([
    'iam:PutRolePermissionsBoundary',
    'iam:PutUserPermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:DeleteUserPermissionsBoundary',
    'iam:DeleteRolePolicy',
    'iam:DetachRolePolicy',
    'iam:DeleteUserPolicy',
    'iam:DetachUserPolicy',
    'iam:UpdateAssumeRolePolicy',
    'iam:CreateLoginProfile',
    'iam:UpdateLoginProfile',
    'ssm:SendCommand',
    'ssm:StartSession',
    'lambda:CreateFunction',
    'lambda:UpdateFunctionCode',
    'lambda:UpdateFunctionConfiguration',
    'cloudformation:CreateStack',
    'cloudformation:UpdateStack',
    'sso:PutInlinePolicyToPermissionSet',
    'sso:AttachManagedPolicyToPermissionSet',
    'sso:CreateAccountAssignment',
    'identitystore:CreateGroupMembership',
    'organizations:CreateAccount',
    // IAM matches actions without regard to case.
    'IAM:putrolepermissionsboundary',
    'SSM:sendcommand',
  ])('should call %s an AWS escalation', (action) => {
    const j = judge(aws({ actions: [action] }), DEFAULT_PRIVILEGE_CRITERIA);
    expect(j.privileged).toBe(true);
    expect(j.reasons.join('; ')).toMatch(/can escalate/);
  });

  it('should check an AWS NotAction allow for escalation when wildcards are not judged', () => {
    const noWildcards = { ...DEFAULT_PRIVILEGE_CRITERIA, wildcardActions: false };
    // Everything but S3: iam:PassRole and the rest are allowed.
    const allButS3 = judge(aws({ actions: [], notActions: ['s3:*'] }), noWildcards);
    expect(allButS3.privileged).toBe(true);
    expect(allButS3.reasons.join('; ')).toMatch(/can escalate: iam:PassRole/);
    // Everything but what escalates (case aside): nothing left to escalate with.
    const everyEscalation = DEFAULT_PRIVILEGE_CRITERIA.escalationActions.aws.map((a) => a.toUpperCase());
    expect(judge(aws({ actions: [], notActions: everyEscalation }), noWildcards)).toEqual({ privileged: false, reasons: [] });
    // `*` itself escalates when wildcards are not reported as such.
    expect(judge(aws({ actions: ['*'] }), noWildcards).reasons.join('; ')).toMatch(/can escalate: iam:PassRole/);
    // Azure's NotActions take escalations away from `*`.
    const contributor = judge(azure({ name: 'Deployer', actions: ['*'], notActions: ['Microsoft.Authorization/*'] }), noWildcards);
    expect(contributor.reasons.join('; ')).not.toMatch(/Microsoft\.Authorization/);
    expect(contributor.reasons.join('; ')).toMatch(/ManagedIdentity/);
  });

  it('should judge a role whose definition could not be read privileged, not harmless', () => {
    const unreadable = { ...azure({ name: 'Custom role 1234', actions: [] }), locator: { definitionUnreadable: true } };
    expect(judge(unreadable, DEFAULT_PRIVILEGE_CRITERIA)).toEqual({ privileged: true, reasons: ['role definition could not be read'] });
  });

  it('should judge external trust: anyone is privileged, another account only with privileged actions', () => {
    const trusted = (trust: string[], actions: string[]) => ({ ...aws({ actions }), locator: { externalTrust: trust } });
    expect(judge(trusted(['*'], ['s3:GetObject']), DEFAULT_PRIVILEGE_CRITERIA)).toEqual({ privileged: true, reasons: ['trusted by anyone (*)'] });
    expect(judge(trusted(['444455556666'], ['s3:GetObject']), DEFAULT_PRIVILEGE_CRITERIA)).toEqual({ privileged: false, reasons: [] });
    expect(judge(trusted(['444455556666'], ['iam:PassRole']), DEFAULT_PRIVILEGE_CRITERIA).reasons).toEqual(['can escalate: iam:PassRole', 'trusted by another account: 444455556666']);
  });

  it('should refuse an override file with an unknown field, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-criteria-'));
    const file = join(dir, 'criteria.json');
    writeFileSync(file, '{"privilegedRole": {"aws": ["X"]}}');
    expect(() => loadPrivilegeCriteria(file)).toThrow(/privilegedRole/);
  });
});
