import type { GcpSimulator } from '@jit/sim-gcp';

/** Where the sandbox's standing GCP bindings are (the organization, folder and project of SANDBOX.gcp). */
export interface SandboxGcpEstate {
  project: string;
  folder: string;
  organization: string;
}

const DAY = 86_400_000;

/**
 * Standing access for discovery to find (issue 16), next to what the broker grants: a human
 * organization admin and an owner who use their access, a deployer service account with
 * roles/editor and a contractor with roles/iam.securityAdmin that used none of their permissions in
 * 90 days (per the IAM recommender's policy insights), a platform group owning the folder, a viewer
 * (not privileged), and a time-bound binding ending tomorrow (temporary, not standing). The
 * broker's own bindings appear as the walk-through grants.
 */
export function seedSandboxGcpStanding(gcp: GcpSimulator, estate: SandboxGcpEstate): void {
  const project = `projects/${estate.project}`;
  const folder = `folders/${estate.folder}`;
  const organization = `organizations/${estate.organization}`;
  const refreshed = new Date(Date.now() - DAY);
  const add = (resource: string, bindings: Array<{ role: string; members: string[]; condition?: { title: string; expression: string } }>) =>
    gcp.writeAsAnotherClient(resource, (policy) => policy.bindings.push(...bindings));

  add(organization, [{ role: 'roles/resourcemanager.organizationAdmin', members: ['user:it-admin@sandbox.example'] }]);
  add(folder, [{ role: 'roles/owner', members: ['group:platform@sandbox.example'] }]);
  add(project, [
    { role: 'roles/owner', members: ['user:ops-lead@sandbox.example'] },
    { role: 'roles/editor', members: [`serviceAccount:deployer@${estate.project}.iam.gserviceaccount.com`] },
    { role: 'roles/iam.securityAdmin', members: ['user:contractor@sandbox.example'] },
    { role: 'roles/viewer', members: ['user:analyst@sandbox.example'] },
    {
      role: 'roles/storage.admin',
      members: ['user:on-call@sandbox.example'],
      condition: { title: 'incident 4711', expression: `request.time < timestamp("${new Date(Date.now() + DAY).toISOString()}")` },
    },
  ]);
  gcp.addPolicyInsight(organization, {
    member: 'user:it-admin@sandbox.example',
    role: 'roles/resourcemanager.organizationAdmin',
    exercisedPermissions: ['resourcemanager.organizations.get', 'resourcemanager.projects.create'],
    currentTotalPermissionsCount: 60,
    lastRefreshTime: refreshed,
  });
  gcp.addPolicyInsight(project, {
    member: 'user:ops-lead@sandbox.example',
    role: 'roles/owner',
    exercisedPermissions: ['compute.instances.list', 'resourcemanager.projects.get', 'storage.buckets.list'],
    inferredPermissions: ['compute.instances.get'],
    currentTotalPermissionsCount: 9800,
    lastRefreshTime: refreshed,
  });
  gcp.addPolicyInsight(project, {
    member: `serviceAccount:deployer@${estate.project}.iam.gserviceaccount.com`,
    role: 'roles/editor',
    exercisedPermissions: [],
    currentTotalPermissionsCount: 8900,
    lastRefreshTime: refreshed,
  });
  gcp.addPolicyInsight(project, {
    member: 'user:contractor@sandbox.example',
    role: 'roles/iam.securityAdmin',
    exercisedPermissions: [],
    currentTotalPermissionsCount: 190,
    lastRefreshTime: refreshed,
  });
}
