/** The simulated tenant: directory objects, roles, policies, and what has been assigned. */

export type SimPrincipalType = 'User' | 'Group' | 'ServicePrincipal';

export interface SimPrincipal {
  id: string;
  type: SimPrincipalType;
  displayName: string;
}

export interface SimAppRole {
  id: string;
  value: string;
  displayName?: string;
}

export interface SimServicePrincipal extends SimPrincipal {
  type: 'ServicePrincipal';
  appRoles: SimAppRole[];
  /** `Application` (default) or `ManagedIdentity`, as Graph's `servicePrincipalType` says. */
  servicePrincipalType: string;
}

/** Graph's `signInActivity` of a user (v1.0 CSDL), ISO date-times or absent. */
export interface SimSignInActivity {
  lastSignInDateTime?: string | null;
  lastSuccessfulSignInDateTime?: string | null;
  lastNonInteractiveSignInDateTime?: string | null;
}

/** An ARM role definition's `permissions[]` entry (Microsoft's REST reference, 2022-04-01). */
export interface SimArmPermission {
  actions: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
}

/**
 * Azure built-in roles with their real ids and permissions (as `az role definition list`
 * shows them), present in every subscription as in Azure; a seed may add others or rename.
 */
export const BUILT_IN_AZURE_ROLES: { id: string; roleName: string; permissions: SimArmPermission[] }[] = [
  { id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', roleName: 'Owner', permissions: [{ actions: ['*'] }] },
  {
    id: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    roleName: 'Contributor',
    permissions: [
      {
        actions: ['*'],
        notActions: [
          'Microsoft.Authorization/*/Delete',
          'Microsoft.Authorization/*/Write',
          'Microsoft.Authorization/elevateAccess/Action',
          'Microsoft.Blueprint/blueprintAssignments/write',
          'Microsoft.Blueprint/blueprintAssignments/delete',
          'Microsoft.Compute/galleries/share/action',
        ],
      },
    ],
  },
  { id: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', roleName: 'Reader', permissions: [{ actions: ['*/read'] }] },
  { id: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', roleName: 'User Access Administrator', permissions: [{ actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'] }] },
];

/** Entra built-in directory roles (template ids as Microsoft publishes them) with part of their `rolePermissions`. */
export const BUILT_IN_DIRECTORY_ROLES: { id: string; displayName: string; allowedResourceActions: string[] }[] = [
  { id: '62e90394-69f5-4237-9190-012177145e10', displayName: 'Global Administrator', allowedResourceActions: ['microsoft.directory/*/allProperties/allTasks', 'microsoft.azure.serviceHealth/allEntities/allTasks'] },
  { id: 'e8611ab8-c189-46e8-94e1-60213ab1f814', displayName: 'Privileged Role Administrator', allowedResourceActions: ['microsoft.directory/roleAssignments/allProperties/allTasks', 'microsoft.directory/roleDefinitions/allProperties/allTasks', 'microsoft.directory/privilegedIdentityManagement/allProperties/allTasks'] },
  { id: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', displayName: 'Application Administrator', allowedResourceActions: ['microsoft.directory/applications/allProperties/allTasks', 'microsoft.directory/servicePrincipals/allProperties/allTasks'] },
  { id: '5d6b6bb7-de71-4623-b4af-96380a352509', displayName: 'Security Reader', allowedResourceActions: ['microsoft.directory/auditLogs/allProperties/read', 'microsoft.directory/signInReports/allProperties/read'] },
  { id: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b', displayName: 'Directory Readers', allowedResourceActions: ['microsoft.directory/users/standard/read', 'microsoft.directory/groups/standard/read'] },
];

/**
 * A PIM role setting. `maxDurationSeconds` is the `Expiration_Admin_Assignment` maximum;
 * `approvalRequired` makes assignment requests wait in `PendingApproval` (real PIM applies
 * approval to activations; the knob lets tests exercise the status the API documents);
 * `provisioningDelayMs` keeps requests in `PendingProvisioning` for that long.
 */
export interface SimRolePolicy {
  maxDurationSeconds?: number;
  approvalRequired?: boolean;
  provisioningDelayMs?: number;
}

export interface SimClient {
  clientId: string;
  secret?: string;
  /** When false, Graph answers 403 Authorization_RequestDenied and ARM 403 AuthorizationFailed. */
  authorized?: boolean;
}

export interface SimSeed {
  users?: { id: string; displayName?: string; userPrincipalName?: string; signInActivity?: SimSignInActivity | null }[];
  groups?: { id: string; displayName?: string }[];
  servicePrincipals?: { id: string; displayName?: string; appRoles?: SimAppRole[]; servicePrincipalType?: 'Application' | 'ManagedIdentity' }[];
  /** Entra role definitions (template ids), with their PIM policy; the built-in ones are always there. */
  directoryRoles?: { id: string; displayName?: string; policy?: SimRolePolicy; allowedResourceActions?: string[] }[];
  /** Azure role definitions (GUIDs), with their PIM policy (same for every scope); the built-in ones are always there. */
  azureRoles?: { id: string; roleName?: string; policy?: SimRolePolicy; permissions?: SimArmPermission[] }[];
  /** PIM for Groups policies, per group and access (`member` / `owner`). */
  groupPolicies?: { groupId: string; access: 'member' | 'owner'; policy: SimRolePolicy }[];
  subscriptions?: string[];
  /** Management groups: a name, or a name with its parent group and the subscriptions directly under it. */
  managementGroups?: (string | { id: string; parent?: string; subscriptions?: string[] })[];
  clients?: SimClient[];
}

export interface SimDirectoryRole {
  id: string;
  displayName: string;
  policy: SimRolePolicy;
  allowedResourceActions: string[];
  isBuiltIn: boolean;
}

export interface SimAzureRole {
  id: string;
  roleName: string;
  policy: SimRolePolicy;
  permissions: SimArmPermission[];
  isBuiltIn: boolean;
}

export class SimDirectory {
  readonly principals = new Map<string, SimPrincipal>();
  readonly servicePrincipals = new Map<string, SimServicePrincipal>();
  /** Per user: `userPrincipalName` and `signInActivity` (null: Graph has none, as for a user who never signed in). */
  readonly users = new Map<string, { userPrincipalName: string; signInActivity: SimSignInActivity | null }>();
  readonly directoryRoles = new Map<string, SimDirectoryRole>();
  readonly azureRoles = new Map<string, SimAzureRole>();
  readonly groupPolicies = new Map<string, SimRolePolicy>();
  readonly subscriptions = new Set<string>();
  readonly managementGroups = new Set<string>();
  /** The hierarchy: a management group's or subscription's id → its parent management group's. */
  readonly parents = new Map<string, string>();
  /** Azure role definitions the caller may not read (ARM answers 403 AuthorizationFailed). */
  readonly unreadableAzureRoles = new Set<string>();
  readonly clients = new Map<string, SimClient>();

  constructor() {
    for (const r of BUILT_IN_AZURE_ROLES) this.azureRoles.set(r.id, { ...r, policy: {}, isBuiltIn: true });
    for (const r of BUILT_IN_DIRECTORY_ROLES) this.directoryRoles.set(r.id, { ...r, policy: {}, isBuiltIn: true });
  }

  seed(seed: SimSeed): void {
    for (const u of seed.users ?? []) {
      this.addPrincipal({ id: u.id, type: 'User', displayName: u.displayName ?? `user ${u.id}` });
      this.users.set(u.id.toLowerCase(), { userPrincipalName: u.userPrincipalName ?? `${u.id.slice(0, 8)}@contoso.example`, signInActivity: u.signInActivity ?? null });
    }
    for (const g of seed.groups ?? []) this.addPrincipal({ id: g.id, type: 'Group', displayName: g.displayName ?? `group ${g.id}` });
    for (const s of seed.servicePrincipals ?? []) {
      const sp: SimServicePrincipal = {
        id: s.id.toLowerCase(),
        type: 'ServicePrincipal',
        displayName: s.displayName ?? `sp ${s.id}`,
        appRoles: s.appRoles ?? [],
        servicePrincipalType: s.servicePrincipalType ?? 'Application',
      };
      this.servicePrincipals.set(sp.id, sp);
      this.addPrincipal(sp);
    }
    for (const r of seed.directoryRoles ?? []) {
      const known = this.directoryRoles.get(r.id.toLowerCase());
      this.directoryRoles.set(r.id.toLowerCase(), {
        id: r.id.toLowerCase(),
        displayName: r.displayName ?? known?.displayName ?? r.id,
        policy: r.policy ?? {},
        allowedResourceActions: r.allowedResourceActions ?? known?.allowedResourceActions ?? [],
        isBuiltIn: known?.isBuiltIn ?? false,
      });
    }
    for (const r of seed.azureRoles ?? []) {
      const known = this.azureRoles.get(r.id.toLowerCase());
      this.azureRoles.set(r.id.toLowerCase(), {
        id: r.id.toLowerCase(),
        roleName: r.roleName ?? known?.roleName ?? r.id,
        policy: r.policy ?? {},
        permissions: r.permissions ?? known?.permissions ?? [],
        isBuiltIn: known?.isBuiltIn ?? false,
      });
    }
    for (const p of seed.groupPolicies ?? []) this.groupPolicies.set(`${p.groupId.toLowerCase()}/${p.access}`, p.policy);
    for (const s of seed.subscriptions ?? []) this.subscriptions.add(s.toLowerCase());
    for (const m of seed.managementGroups ?? []) {
      const g = typeof m === 'string' ? { id: m } : m;
      this.managementGroups.add(g.id.toLowerCase());
      if (g.parent) this.parents.set(g.id.toLowerCase(), g.parent.toLowerCase());
      for (const s of g.subscriptions ?? []) this.parents.set(s.toLowerCase(), g.id.toLowerCase());
    }
    for (const c of seed.clients ?? []) this.clients.set(c.clientId, c);
  }

  principal(id: string): SimPrincipal | undefined {
    return this.principals.get(id.toLowerCase());
  }

  private addPrincipal(p: SimPrincipal): void {
    this.principals.set(p.id.toLowerCase(), { ...p, id: p.id.toLowerCase() });
  }
}
