import { z } from 'zod';
import { PrincipalRule, Target, defineTargetKind, matchPatterns, matchScope, rulePatterns, rulePrincipalFields } from '@jit/domain';

/**
 * The Azure kinds as the broker core sees them (request fields, principals, rule matchers,
 * enforcement): no SDK needed at import time. docs/architecture.md, "Target kinds".
 */

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const guid = (what: string) => z.string().regex(GUID, `must be a GUID (${what})`);

/** ARM scopes: management group, subscription, resource group, or a resource below them. */
const AZURE_SCOPE =
  /^\/(providers\/Microsoft\.Management\/managementGroups\/[\w.()-]{1,90}|subscriptions\/[0-9a-fA-F-]{36}(\/resourceGroups\/[-\w.()]{1,90}(\/providers\/[\w.]+\/[\w.-]+\/[^/]+(\/[\w.-]+\/[^/]+)*)?)?)$/;
/** A role definition GUID, or its full ARM id at tenant, subscription or management-group level. */
const AZURE_ROLE_DEFINITION =
  /^((\/subscriptions\/[0-9a-fA-F-]{36}|\/providers\/Microsoft\.Management\/managementGroups\/[\w.()-]{1,90})?\/providers\/Microsoft\.Authorization\/roleDefinitions\/)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Entra directory scopes: tenant-wide, an administrative unit, or one application object. */
const DIRECTORY_SCOPE = /^\/((administrativeUnits\/)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$/;

/** `.` and `..` segments would be resolved by the HTTP client into another scope than the one the rules checked. */
const noDotSegments = (s: string) => !s.split('/').some((seg) => seg === '.' || seg === '..');
const DOT_SEGMENTS = 'must not contain "." or ".." path segments';

export const azureTargetSchemas = {
  'azure.directory-role': z.strictObject({
    kind: z.literal('azure.directory-role'),
    roleDefinitionId: guid('Entra role definition id'),
    directoryScopeId: z.string().regex(DIRECTORY_SCOPE, 'must be "/", "/<app object id>" or "/administrativeUnits/<id>"').default('/'),
  }),
  'azure.resource-role': z.strictObject({
    kind: z.literal('azure.resource-role'),
    scope: z
      .string()
      .max(1024)
      .regex(AZURE_SCOPE, 'must be an ARM scope (management group, subscription, resource group or resource)')
      .refine(noDotSegments, DOT_SEGMENTS),
    roleDefinitionId: z
      .string()
      .max(512)
      .regex(AZURE_ROLE_DEFINITION, 'must be a role definition GUID or its ARM id')
      .refine(noDotSegments, DOT_SEGMENTS),
  }),
  'azure.group-membership': z.strictObject({
    kind: z.literal('azure.group-membership'),
    groupId: guid('Entra group object id'),
    access: z.enum(['member', 'owner']),
  }),
  'azure.app-role': z.strictObject({
    kind: z.literal('azure.app-role'),
    resourceServicePrincipalId: guid('service principal object id'),
    appRoleId: guid('app role id'),
  }),
};
export type AzureKind = keyof typeof azureTargetSchemas;
export type AzureTargetOf<K extends AzureKind> = z.output<(typeof azureTargetSchemas)[K]>;
export type AzureTarget = { [K in AzureKind]: AzureTargetOf<K> }[AzureKind];

/** A target of an Azure kind with its fields' types: what the registry parsed with the schemas above (`validateAzureSpec` checks it again). */
export function azureTarget(target: Target): AzureTarget {
  return target as AzureTarget;
}

const ENTRA_OBJECT = { id: GUID, idMessage: 'must be an Entra object id (GUID)' };
const entra = (types: PrincipalRule['types']): PrincipalRule => ({ types, ...ENTRA_OBJECT });

const GUID_TAIL = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Azure role definitions may be given as a GUID or an ARM id; both mean the trailing GUID. */
function roleGuid(id: string): string {
  return (GUID_TAIL.exec(id)?.[0] ?? id).toLowerCase();
}

export const azureKinds = [
  defineTargetKind({
    kind: 'azure.directory-role',
    cloud: 'azure',
    target: azureTargetSchemas['azure.directory-role'],
    principals: entra(['user', 'group', 'workload']),
    rules: {
      fields: { roleDefinitionIds: rulePatterns, directoryScopes: rulePatterns, ...rulePrincipalFields },
      matches: (m, t, relation) =>
        matchPatterns(m.roleDefinitionIds.map(roleGuid), roleGuid(t.roleDefinitionId), true, relation) && matchScope(m.directoryScopes, t.directoryScopeId, relation),
    },
  }),
  defineTargetKind({
    kind: 'azure.resource-role',
    cloud: 'azure',
    target: azureTargetSchemas['azure.resource-role'],
    principals: entra(['user', 'group', 'workload']),
    rules: {
      fields: { roleDefinitionIds: rulePatterns, scopes: rulePatterns, ...rulePrincipalFields },
      matches: (m, t, relation) => matchPatterns(m.roleDefinitionIds.map(roleGuid), roleGuid(t.roleDefinitionId), true, relation) && matchScope(m.scopes, t.scope, relation),
    },
    // Workloads get a plain ARM role assignment (PIM takes users and groups), which has no expiry of its own.
    enforcement: (principal) => (principal.type === 'workload' ? 'sweeper' : 'cloud'),
  }),
  defineTargetKind({
    kind: 'azure.group-membership',
    cloud: 'azure',
    target: azureTargetSchemas['azure.group-membership'],
    principals: entra(['user', 'group']),
    rules: {
      fields: { groupIds: rulePatterns, access: z.array(z.enum(['member', 'owner'])).min(1), ...rulePrincipalFields },
      matches: (m, t, relation) => matchPatterns(m.groupIds, t.groupId, true, relation) && m.access.includes(t.access),
    },
  }),
  defineTargetKind({
    kind: 'azure.app-role',
    cloud: 'azure',
    target: azureTargetSchemas['azure.app-role'],
    principals: entra(['workload']),
    rules: {
      fields: { resourceServicePrincipalIds: rulePatterns, appRoleIds: rulePatterns, ...rulePrincipalFields },
      matches: (m, t, relation) => matchPatterns(m.resourceServicePrincipalIds, t.resourceServicePrincipalId, true, relation) && matchPatterns(m.appRoleIds, t.appRoleId, true, relation),
    },
    // App-role assignments have no expiry: the sweeper removes them.
    enforcement: 'sweeper',
  }),
];
