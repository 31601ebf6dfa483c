import { StandingAssignment } from '@jit/domain';
import { parseAccessPolicy } from '@jit/policy';
import { targetKinds } from '@jit/testing';
import { checkProposal, proposeRule } from './proposed-rule';

const base = { since: null, lastUsedAt: null, brokerOwned: false, removable: true, locator: {} };
const findings: StandingAssignment[] = [
  {
    ...base,
    cloud: 'aws',
    key: 'aws:111122223333:role/ops/deployer:AdministratorAccess',
    principal: { id: 'arn:aws:iam::111122223333:role/ops/deployer', kind: 'role', human: null },
    scope: 'aws:111122223333',
    access: { type: 'aws.managed-policy', name: 'AdministratorAccess', id: 'arn:aws:iam::aws:policy/AdministratorAccess', actions: ['*'] },
    usage: { granted: ['s3', 'ec2', 'iam', 'lambda'], used: ['s3', 'ec2'], periodDays: 400 },
  },
  {
    ...base,
    cloud: 'aws',
    key: 'aws:111122223333:group/admins:inline',
    principal: { id: 'arn:aws:iam::111122223333:group/admins', kind: 'group', human: null },
    scope: 'aws:111122223333',
    access: { type: 'aws.inline-policy', name: 'admins-inline', actions: ['iam:PassRole', 'ec2:*'] },
  },
  {
    ...base,
    cloud: 'azure',
    key: 'azure:/subscriptions/s1:ra1',
    principal: { id: '6f1c0e5e-0000-4000-8000-000000000001', kind: 'user', human: true, displayName: 'Alice' },
    scope: '/subscriptions/00000000-0000-0000-0000-000000000001',
    access: { type: 'azure.role-assignment', name: 'Owner', id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' },
  },
  {
    ...base,
    cloud: 'azure',
    key: 'azure:/:ga',
    principal: { id: '6f1c0e5e-0000-4000-8000-000000000002', kind: 'user', human: true },
    scope: '/',
    access: { type: 'azure.directory-role', name: 'Global Administrator', id: '62e90394-69f5-4237-9190-012177145e10' },
  },
  {
    ...base,
    cloud: 'gcp',
    key: 'gcp:projects/demo-project:roles/owner:user:bob@example.com',
    principal: { id: 'user:bob@example.com', kind: 'user', human: true },
    scope: 'projects/demo-project',
    access: { type: 'gcp.role-binding', name: 'roles/owner' },
    usage: { granted: ['compute.instances.list', 'storage.objects.get'], used: ['storage.objects.get'], periodDays: 90 },
  },
  {
    ...base,
    cloud: 'gcp',
    key: 'gcp:projects/demo-project:roles/editor:sa',
    principal: { id: 'serviceAccount:ci@demo-project.iam.gserviceaccount.com', kind: 'service_account', human: false },
    scope: 'projects/demo-project',
    access: { type: 'gcp.role-binding', name: 'roles/editor' },
  },
  {
    ...base,
    cloud: 'gcp',
    key: 'gcp:folders/123:roles/storage.admin:group',
    principal: { id: 'group:data@example.com', kind: 'group', human: null },
    scope: 'folders/123',
    access: { type: 'gcp.role-binding', name: 'roles/storage.admin' },
  },
];

describe('proposed rules', () => {
  it.each(findings.map((f) => [f.key, f] as const))('should propose an entry the rules checker accepts for %s', (_key, finding) => {
    const proposal = proposeRule(finding);
    expect(checkProposal(proposal, targetKinds)).toEqual([]);
    // The same check npm run rules makes: the file loads, and the rule is in it.
    const policy = parseAccessPolicy(proposal.file, 'proposal', new Date(), targetKinds);
    expect(policy.file.rules.map((r) => r.name)).toEqual([proposal.rule.name]);
    expect(policy.file.rules[0].approval).not.toBe('auto');
  });

  it('should narrow AWS to the services used, with the role addressed by name', () => {
    const p = proposeRule(findings[0]);
    expect(p.narrowed).toBe(true);
    expect(p.rule.targets).toEqual([{ kind: 'aws.iam-policy', actions: ['ec2:*', 's3:*'], resources: ['*'], principals: ['arn:aws:iam::111122223333:role/deployer'] }]);
  });

  it('should keep the actions where there is no usage, and say an IAM group cannot be a rule principal', () => {
    const p = proposeRule(findings[1]);
    expect(p.narrowed).toBe(false);
    expect(p.rule.targets).toEqual([{ kind: 'aws.iam-policy', actions: ['iam:PassRole', 'ec2:*'], resources: ['*'] }]);
    expect(p.notes.join(' ')).toMatch(/not an IAM user or role/);
  });

  it('should make Azure roles requestable at their scope for their principal', () => {
    expect(proposeRule(findings[2]).rule.targets).toEqual([
      { kind: 'azure.resource-role', roleDefinitionIds: ['8e3af657-a8ff-443c-a75c-2fe8c4bcb635'], scopes: ['/subscriptions/00000000-0000-0000-0000-000000000001'], principals: ['6f1c0e5e-0000-4000-8000-000000000001'] },
    ]);
    expect(proposeRule(findings[3]).rule.targets).toEqual([
      { kind: 'azure.directory-role', roleDefinitionIds: ['62e90394-69f5-4237-9190-012177145e10'], directoryScopes: ['/'], principals: ['6f1c0e5e-0000-4000-8000-000000000002'] },
    ]);
  });

  it('should never propose a GCP basic role (it cannot expire): the used services where known', () => {
    const owner = proposeRule(findings[4]);
    expect(owner.narrowed).toBe(true);
    expect(owner.rule.targets).toEqual([{ kind: 'gcp.iam-binding', roles: ['roles/storage.*'], resources: ['projects/demo-project'], principals: ['user:bob@example.com'] }]);
    const editor = proposeRule(findings[5]);
    expect((editor.rule.targets as { roles: string[] }[])[0].roles).toEqual(['roles/*']);
    expect(editor.notes.join(' ')).toMatch(/cannot be granted with an expiry/);
    expect((proposeRule(findings[6]).rule.targets as { roles: string[] }[])[0].roles).toEqual(['roles/storage.admin']);
  });

  it('should name rules uniquely and within the rules file limit', () => {
    const names = findings.map((f) => proposeRule(f).rule.name as string);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9][\w.:-]{0,79}$/);
  });
});
