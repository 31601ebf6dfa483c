import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseYamlWithSchema } from '@jit/config';
import { CLOUDS, CloudName, ELIGIBLE_ACCESS_TYPES, StandingAssignment, globCovers, globsOverlap } from '@jit/domain';

/**
 * The privilege criteria (docs/discovery.md, "Criteria"): what makes a standing assignment
 * privileged. Every list is of IAM-style wildcards (`*`, `?`), matched without regard to case.
 * An override file (JIT_DISCOVERY_CRITERIA_FILE, YAML or JSON) replaces the fields it gives.
 */
export const DEFAULT_PRIVILEGE_CRITERIA = {
  /** An action `*`, `service:*` (AWS) or `Provider/*` (Azure), or an AWS NotAction allow, is privileged. */
  wildcardActions: true,
  /** Actions that let the holder raise their own access (or take another identity's), per cloud. */
  escalationActions: {
    aws: [
      'iam:PassRole',
      'iam:Put*Policy',
      'iam:Attach*Policy',
      'iam:Delete*Policy',
      'iam:Detach*Policy',
      'iam:Put*PermissionsBoundary',
      'iam:Delete*PermissionsBoundary',
      'iam:CreatePolicyVersion',
      'iam:SetDefaultPolicyVersion',
      'iam:CreateAccessKey',
      'iam:CreateLoginProfile',
      'iam:UpdateLoginProfile',
      'iam:UpdateAssumeRolePolicy',
      'iam:AddUserToGroup',
      'iam:CreateRole',
      'iam:CreateUser',
      'sts:AssumeRole',
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
      'organizations:*',
    ],
    azure: [
      'Microsoft.Authorization/roleAssignments/write',
      'Microsoft.Authorization/roleDefinitions/write',
      'Microsoft.Authorization/*/write',
      'Microsoft.Authorization/elevateAccess/action',
      'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      'microsoft.directory/roleAssignments/create',
      'microsoft.directory/roleAssignments/allProperties/allTasks',
      'microsoft.directory/roleAssignments/allProperties/update',
      'microsoft.directory/servicePrincipals/credentials/update',
      'microsoft.directory/applications/credentials/update',
    ],
    gcp: [
      '*.setIamPolicy',
      'iam.serviceAccounts.actAs',
      'iam.serviceAccounts.getAccessToken',
      'iam.serviceAccounts.implicitDelegation',
      'iam.serviceAccounts.signJwt',
      'iam.serviceAccountKeys.create',
      'iam.roles.update',
      'iam.roles.create',
      'deploymentmanager.deployments.create',
    ],
  } as Record<CloudName, string[]>,
  /** Roles and policies privileged by name (or id), per cloud. */
  privilegedRoles: {
    aws: ['AdministratorAccess', 'IAMFullAccess', 'PowerUserAccess', 'AWSOrganizationsFullAccess', 'AdministratorAccess-*'],
    azure: [
      // Azure RBAC (subscription and resource scopes).
      'Owner',
      'Contributor',
      'User Access Administrator',
      'Role Based Access Control Administrator',
      // Entra directory roles Microsoft marks privileged.
      'Global Administrator',
      'Privileged Role Administrator',
      'Privileged Authentication Administrator',
      'Security Administrator',
      'User Administrator',
      'Application Administrator',
      'Cloud Application Administrator',
      'Authentication Administrator',
      'Conditional Access Administrator',
      'Exchange Administrator',
      'SharePoint Administrator',
      'Intune Administrator',
      'Hybrid Identity Administrator',
      'Helpdesk Administrator',
      'Password Administrator',
      'Partner Tier2 Support',
      'Domain Name Administrator',
      'External Identity Provider Administrator',
      'Directory Writers',
      // Their well-known template ids (Global Administrator, Privileged Role Administrator).
      '62e90394-69f5-4237-9190-012177145e10',
      'e8611ab8-c189-46e8-94e1-60213ab1f814',
    ],
    gcp: ['roles/owner', 'roles/editor', 'roles/*Admin', 'roles/*.admin', 'roles/iam.*', 'roles/resourcemanager.*Admin'],
  } as Record<CloudName, string[]>,
  /** Access types never judged privileged (e.g. a read-only mechanism); empty by default. */
  ignoreAccessTypes: [] as string[],
};

export type PrivilegeCriteria = typeof DEFAULT_PRIVILEGE_CRITERIA;

const patterns = z.array(z.string().min(1).max(512)).max(1000);
const perCloud = z.partialRecord(z.enum(CLOUDS), patterns);

/** The override file: every field optional; a given cloud's list replaces the default list of that cloud. */
export const privilegeCriteriaFileSchema = z.strictObject({
  wildcardActions: z.boolean().optional(),
  escalationActions: perCloud.optional(),
  privilegedRoles: perCloud.optional(),
  ignoreAccessTypes: patterns.optional(),
});

/** The defaults with the file's fields in their place. */
export function mergeCriteria(override: z.output<typeof privilegeCriteriaFileSchema>): PrivilegeCriteria {
  const d = DEFAULT_PRIVILEGE_CRITERIA;
  return {
    wildcardActions: override.wildcardActions ?? d.wildcardActions,
    escalationActions: { ...d.escalationActions, ...override.escalationActions },
    privilegedRoles: { ...d.privilegedRoles, ...override.privilegedRoles },
    ignoreAccessTypes: override.ignoreAccessTypes ?? d.ignoreAccessTypes,
  };
}

/** The criteria from JIT_DISCOVERY_CRITERIA_FILE (YAML or JSON, which is YAML too); a bad file stops the start with its line and field. */
export function loadPrivilegeCriteria(file: string | undefined): PrivilegeCriteria {
  if (!file) return DEFAULT_PRIVILEGE_CRITERIA;
  return mergeCriteria(parseYamlWithSchema(readFileSync(file, 'utf8'), privilegeCriteriaFileSchema, file));
}

/** `*`, `service:*` (AWS), `Provider/*` or `Provider/type/*` (Azure), `service.*` (GCP): every action of a service, or all. */
export function isWildcardAction(action: string): boolean {
  return action === '*' || /^[^*?]+[:/.]\*$/.test(action);
}

export interface Judgement {
  privileged: boolean;
  reasons: string[];
}

/** Judges one standing assignment by the criteria: privileged with every reason that matched, or not (reasons empty). */
export function judge(assignment: Pick<StandingAssignment, 'cloud' | 'access'> & { locator?: Record<string, unknown> }, criteria: PrivilegeCriteria): Judgement {
  const { access, cloud } = assignment;
  if (criteria.ignoreAccessTypes.some((p) => globCovers(p, access.type, true))) return { privileged: false, reasons: [] };
  const reasons: string[] = [];
  // A definition the inventory could not read lists no actions: that is not "harmless", it is unknown, judged privileged.
  if (assignment.locator?.definitionUnreadable === true) reasons.push('role definition could not be read');
  const roleHit = (criteria.privilegedRoles[cloud] ?? []).find((p) => globCovers(p, access.name, true) || (access.id !== undefined && globCovers(p, access.id, true)));
  if (roleHit) reasons.push(`privileged role: ${access.name}${roleHit.toLowerCase() === access.name.toLowerCase() ? '' : ` (matches ${roleHit})`}`);
  const actions = access.actions ?? [];
  if (criteria.wildcardActions) {
    const wild = actions.filter(isWildcardAction);
    if (wild.length) reasons.push(`wildcard actions: ${wild.slice(0, 5).join(', ')}${wild.length > 5 ? `, and ${wild.length - 5} more` : ''}`);
    if (access.notActions?.length) reasons.push(`allows every action except ${access.notActions.length} (NotAction)`);
  }
  const escalation = new Set<string>();
  const patterns = criteria.escalationActions[cloud] ?? [];
  const excluded = (p: string) => (access.notActions ?? []).some((n) => globCovers(n, p, true));
  for (const p of patterns) {
    // `iam:*` holds `iam:PassRole`; `iam:Put*` holds `iam:PutRolePolicy`: any overlap gives the escalation
    // (`*` alone is reported as a wildcard already, unless wildcards are not judged).
    const held = actions.some((action) => (action !== '*' || !criteria.wildcardActions) && globsOverlap(p, action, true));
    if (cloud === 'aws') {
      // An AWS allow through NotAction allows every action but those listed: whatever escalation it does not exclude.
      if (held || (access.notActions?.length && !excluded(p))) escalation.add(p);
    } else if (held && !excluded(p)) {
      // Azure's NotActions take actions away from the role's Actions.
      escalation.add(p);
    }
  }
  if (escalation.size) {
    const list = [...escalation];
    reasons.push(`can escalate: ${list.slice(0, 5).join(', ')}${list.length > 5 ? `, and ${list.length - 5} more` : ''}`);
  }
  // A role others can assume from outside its account (AWS trust policy): trusted by anyone (`*`) is
  // privileged on its own; trusted by another account adds to an assignment already privileged.
  const trust = Array.isArray(assignment.locator?.externalTrust) ? (assignment.locator.externalTrust as unknown[]).filter((t): t is string => typeof t === 'string') : [];
  if (trust.includes('*')) reasons.push('trusted by anyone (*)');
  else if (trust.length && reasons.length) reasons.push(`trusted by another account: ${trust.slice(0, 5).join(', ')}${trust.length > 5 ? `, and ${trust.length - 5} more` : ''}`);
  // Eligibility is not held access: what it would give is judged, and said to be eligibility.
  if (ELIGIBLE_ACCESS_TYPES.includes(access.type) && reasons.length) return { privileged: true, reasons: reasons.map((r) => `eligible for ${r}`) };
  return { privileged: reasons.length > 0, reasons };
}
