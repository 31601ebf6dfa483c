import { CloudName, StandingAssignment } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';

const DAY = 86_400_000;

/**
 * Standing access the in-memory clouds hold in the sandbox (`--clouds local`), so discovery has
 * something to find without the simulators (docs/discovery.md): per cloud a privileged assignment
 * in use, one unused for months, a workload's, and one that is not privileged.
 */
export function seedLocalStanding(provider: LocalCloudProvider, now = Date.now()): void {
  const at = (days: number) => new Date(now - days * DAY);
  const base = { since: at(400), lastUsedAt: null, brokerOwned: false, removable: true };
  const seeds: Record<CloudName, Omit<StandingAssignment, 'cloud' | 'locator' | keyof typeof base>[] & Partial<StandingAssignment>[]> = {
    aws: [
      {
        key: 'aws:123456789012:role/platform-admin:AdministratorAccess',
        principal: { id: 'arn:aws:iam::123456789012:role/platform-admin', kind: 'role', human: null },
        scope: 'aws:123456789012',
        access: { type: 'aws.managed-policy', name: 'AdministratorAccess', id: 'arn:aws:iam::aws:policy/AdministratorAccess', actions: ['*'] },
        lastUsedAt: at(3),
        usage: { granted: ['s3', 'ec2', 'iam', 'lambda'], used: ['s3', 'ec2'], periodDays: 400 },
      },
      {
        key: 'aws:123456789012:user/legacy-ci:inline:deploy',
        principal: { id: 'arn:aws:iam::123456789012:user/legacy-ci', kind: 'user', human: false },
        scope: 'aws:123456789012',
        access: { type: 'aws.inline-policy', name: 'deploy', actions: ['iam:PassRole', 'lambda:*'] },
        lastUsedAt: at(180),
      },
      {
        key: 'aws:123456789012:user/auditor:ReadOnlyAccess',
        principal: { id: 'arn:aws:iam::123456789012:user/auditor', kind: 'user', human: true },
        scope: 'aws:123456789012',
        access: { type: 'aws.managed-policy', name: 'ReadOnlyAccess', actions: ['s3:Get*', 's3:List*'] },
        lastUsedAt: at(10),
      },
    ],
    azure: [
      {
        key: 'azure:/subscriptions/00000000-0000-0000-0000-00000000a11c:owner:alice',
        principal: { id: '6f1c0e5e-0000-4000-8000-00000000a11c', kind: 'user', human: true, displayName: 'Alice' },
        scope: '/subscriptions/00000000-0000-0000-0000-00000000a11c',
        access: { type: 'azure.role-assignment', name: 'Owner', id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' },
        neverUsed: true,
      },
      {
        key: 'azure:/:global-admin:bob',
        principal: { id: '6f1c0e5e-0000-4000-8000-000000000b0b', kind: 'user', human: true, displayName: 'Bob' },
        scope: '/',
        access: { type: 'azure.directory-role', name: 'Global Administrator', id: '62e90394-69f5-4237-9190-012177145e10' },
        lastUsedAt: at(1),
      },
    ],
    gcp: [
      {
        key: 'gcp:projects/demo-project:roles/editor:serviceAccount:etl@demo-project.iam.gserviceaccount.com',
        principal: { id: 'serviceAccount:etl@demo-project.iam.gserviceaccount.com', kind: 'service_account', human: false },
        scope: 'projects/demo-project',
        access: { type: 'gcp.role-binding', name: 'roles/editor' },
        lastUsedAt: at(120),
        usage: { granted: ['storage.objects.get', 'compute.instances.list'], used: ['storage.objects.get'], periodDays: 90 },
      },
      {
        key: 'gcp:projects/demo-project:roles/viewer:user:carol@example.com',
        principal: { id: 'user:carol@example.com', kind: 'user', human: true },
        scope: 'projects/demo-project',
        access: { type: 'gcp.role-binding', name: 'roles/viewer' },
        lastUsedAt: at(5),
      },
    ],
  };
  provider.inventory.seed(...seeds[provider.cloud].map((s) => ({ ...base, ...s, cloud: provider.cloud, locator: { key: s.key } })));
}
