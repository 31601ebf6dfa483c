import { PimScheduleEngine } from './pim-schedule.engine';
import { SimFaultPlan } from './sim-faults';
import { SimHttpError, SimRequest, SimResponse, asText } from './sim-http';
import { SimDirectory } from './sim-state';

export interface ArmRoleAssignmentRecord {
  name: string;
  scope: string;
  roleDefinitionId: string;
  roleGuid: string;
  principalId: string;
  principalType: string;
  description: string | null;
  condition: string | null;
  conditionVersion: string | null;
  createdOn: string;
  updatedOn: string;
  createdBy: string;
}

export interface AppRoleAssignmentRecord {
  id: string;
  appRoleId: string;
  principalId: string;
  resourceId: string;
  createdDateTime: string;
}

/** A permanent Entra directory role assignment (Graph `unifiedRoleAssignment`), not made through PIM. */
export interface DirectoryRoleAssignmentRecord {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  /** Null for an assignment scoped to an application's own scope (`appScopeId`). */
  directoryScopeId: string | null;
  appScopeId?: string | null;
}

/** A PIM eligibility (ARM `roleEligibilitySchedule` or Graph `unifiedRoleEligibilitySchedule`), seeded by tests. */
export interface EligibilityRecord {
  id: string;
  surface: 'arm' | 'directory';
  /** Role definition GUID (ARM) or Entra role definition id. */
  roleId: string;
  /** ARM scope (lower case) or Entra `directoryScopeId`. */
  scope: string;
  principalId: string;
  start: Date;
  end: Date | null;
  createdAt: Date;
}

/** The caller, as the token it presented says. */
export interface SimCaller {
  appId: string;
  authorized: boolean;
}

/** Shared state every route reads and changes. */
export interface SimContext {
  baseUrl: string;
  tenantId: string;
  directory: SimDirectory;
  pim: PimScheduleEngine;
  faults: SimFaultPlan;
  roleAssignments: Map<string, ArmRoleAssignmentRecord>;
  appRoleAssignments: Map<string, AppRoleAssignmentRecord>;
  directoryRoleAssignments: Map<string, DirectoryRoleAssignmentRecord>;
  eligibilities: Map<string, EligibilityRecord>;
  /** Tags per service principal (the only servicePrincipal property the simulator writes). */
  servicePrincipalTags: Map<string, string[]>;
}

export type SimRoute = (req: SimRequest, ctx: SimContext, caller: SimCaller) => SimResponse | undefined;

/** Throws the service's "principal not found" error while a replication fault is armed or the principal is unknown. */
export function requirePrincipal(ctx: SimContext, id: unknown, notFound: (id: string) => SimHttpError) {
  const principalId = asText(id);
  const principal = ctx.directory.principal(principalId);
  if (!principal || ctx.faults.takeReplicationMiss()) throw notFound(principalId);
  return principal;
}

/** Rejects properties the API description does not define (Graph and ARM both answer 400). */
export function rejectUnknown(body: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(body)) {
    if (key.startsWith('@odata.')) continue;
    if (!allowed.includes(key)) throw new SimHttpError(400, 'BadRequest', `The property '${key}' does not exist on type '${where}'.`);
  }
}
