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
}

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
  users?: { id: string; displayName?: string }[];
  groups?: { id: string; displayName?: string }[];
  servicePrincipals?: { id: string; displayName?: string; appRoles?: SimAppRole[] }[];
  /** Entra role definitions (template ids), with their PIM policy. */
  directoryRoles?: { id: string; displayName?: string; policy?: SimRolePolicy }[];
  /** Azure role definitions (GUIDs), with their PIM policy (same for every scope). */
  azureRoles?: { id: string; roleName?: string; policy?: SimRolePolicy }[];
  /** PIM for Groups policies, per group and access (`member` / `owner`). */
  groupPolicies?: { groupId: string; access: 'member' | 'owner'; policy: SimRolePolicy }[];
  subscriptions?: string[];
  managementGroups?: string[];
  clients?: SimClient[];
}

export class SimDirectory {
  readonly principals = new Map<string, SimPrincipal>();
  readonly servicePrincipals = new Map<string, SimServicePrincipal>();
  readonly directoryRoles = new Map<string, { id: string; displayName: string; policy: SimRolePolicy }>();
  readonly azureRoles = new Map<string, { id: string; roleName: string; policy: SimRolePolicy }>();
  readonly groupPolicies = new Map<string, SimRolePolicy>();
  readonly subscriptions = new Set<string>();
  readonly managementGroups = new Set<string>();
  readonly clients = new Map<string, SimClient>();

  seed(seed: SimSeed): void {
    for (const u of seed.users ?? []) this.addPrincipal({ id: u.id, type: 'User', displayName: u.displayName ?? `user ${u.id}` });
    for (const g of seed.groups ?? []) this.addPrincipal({ id: g.id, type: 'Group', displayName: g.displayName ?? `group ${g.id}` });
    for (const s of seed.servicePrincipals ?? []) {
      const sp: SimServicePrincipal = { id: s.id.toLowerCase(), type: 'ServicePrincipal', displayName: s.displayName ?? `sp ${s.id}`, appRoles: s.appRoles ?? [] };
      this.servicePrincipals.set(sp.id, sp);
      this.addPrincipal(sp);
    }
    for (const r of seed.directoryRoles ?? []) {
      this.directoryRoles.set(r.id.toLowerCase(), { id: r.id.toLowerCase(), displayName: r.displayName ?? r.id, policy: r.policy ?? {} });
    }
    for (const r of seed.azureRoles ?? []) {
      this.azureRoles.set(r.id.toLowerCase(), { id: r.id.toLowerCase(), roleName: r.roleName ?? r.id, policy: r.policy ?? {} });
    }
    for (const p of seed.groupPolicies ?? []) this.groupPolicies.set(`${p.groupId.toLowerCase()}/${p.access}`, p.policy);
    for (const s of seed.subscriptions ?? []) this.subscriptions.add(s.toLowerCase());
    for (const m of seed.managementGroups ?? []) this.managementGroups.add(m.toLowerCase());
    for (const c of seed.clients ?? []) this.clients.set(c.clientId, c);
  }

  principal(id: string): SimPrincipal | undefined {
    return this.principals.get(id.toLowerCase());
  }

  private addPrincipal(p: SimPrincipal): void {
    this.principals.set(p.id.toLowerCase(), { ...p, id: p.id.toLowerCase() });
  }
}
