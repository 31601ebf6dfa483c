import { Principal, Target } from '@jit/domain';
import { TargetMatcher } from './access-policy.schema';
import { globCovers, globsOverlap } from './glob';

/**
 * Two questions about one matcher and one requested target:
 * - `covers`: everything requested lies inside what the matcher names (allow rules);
 * - `touches`: anything requested could fall inside it (the deny-list, checked first).
 */
type Relation = 'covers' | 'touches';

const GUID_TAIL = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Azure role definitions may be given as a GUID or an ARM id; both mean the trailing GUID. */
function roleGuid(id: string): string {
  return (GUID_TAIL.exec(id)?.[0] ?? id).toLowerCase();
}

function flat(patterns: string[], value: string, ci: boolean, relation: Relation): boolean {
  return patterns.some((p) => (relation === 'covers' ? globCovers(p, value, ci) : globsOverlap(p, value, ci)));
}

/** `/a/b/c` → `/a/b/c`, `/a/b`, `/a`, `/`: a grant at a scope reaches everything below it. */
function selfAndAncestors(scope: string): string[] {
  const parts = scope.split('/').filter(Boolean);
  const out: string[] = [];
  for (let n = parts.length; n >= 0; n--) out.push('/' + parts.slice(0, n).join('/'));
  return out;
}

/**
 * Path scopes (ARM scopes, Entra directory scopes): a pattern covers a scope at or below it;
 * it is touched by a request at, below or above it, since a grant above reaches it too.
 */
function hierarchical(patterns: string[], scope: string, relation: Relation): boolean {
  const norm = (s: string) => (s.length > 1 ? s.replace(/\/+$/, '') : s).toLowerCase();
  const chain = selfAndAncestors(norm(scope));
  if (relation === 'covers') return patterns.some((p) => chain.some((a) => globCovers(norm(p), a)));
  const below = chain[0] === '/' ? '/*' : `${chain[0]}/*`;
  return patterns.some((p) => chain.some((a) => globsOverlap(norm(p), a)) || globsOverlap(norm(p), below));
}

/** AWS lists: covered when each requested item is; touched when any is. */
function each(patterns: string[], values: string[], ci: boolean, relation: Relation): boolean {
  return relation === 'covers' ? values.every((v) => flat(patterns, v, ci, 'covers')) : values.some((v) => flat(patterns, v, ci, 'touches'));
}

const IAM_ENTITY = /^(arn:aws(?:-cn|-us-gov)?:iam::\d{12}:(?:role|user)\/)(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

/**
 * An IAM role or user ARN as the cloud addresses it: by name, unique per account regardless of
 * case and path. Matching on the path the requester wrote would let `role/ci-x/prod-admin`
 * pass for `role/ci-*` while the policy lands on `prod-admin`.
 */
export function canonicalIamArn(arn: string): string {
  const m = IAM_ENTITY.exec(arn);
  return (m ? m[1] + m[2] : arn).toLowerCase();
}

function principalMatches(m: TargetMatcher, principal: Principal, kind: Target['kind'], relation: Relation): boolean {
  if (m.principalTypes && !m.principalTypes.includes(principal.type)) return false;
  if (!m.principals) return true;
  // Case-insensitive everywhere: Entra ids are GUIDs, IAM names and GCP member emails ignore case.
  const id = kind === 'aws.iam-policy' || kind === 'aws.assume-role' ? canonicalIamArn(principal.id) : principal.id;
  return flat(m.principals, id, true, relation);
}

export function matchTarget(m: TargetMatcher, principal: Principal, target: Target, relation: Relation): boolean {
  if (m.kind !== target.kind) return false;
  if (!principalMatches(m, principal, target.kind, relation)) return false;
  switch (m.kind) {
    case 'aws.iam-policy': {
      const t = target as Extract<Target, { kind: 'aws.iam-policy' }>;
      return each(m.actions, t.actions, true, relation) && each(m.resources, t.resources, false, relation);
    }
    case 'aws.assume-role':
    case 'aws.sts-credentials': {
      const t = target as Extract<Target, { kind: 'aws.assume-role' | 'aws.sts-credentials' }>;
      return flat(m.roleArns, canonicalIamArn(t.roleArn), true, relation);
    }
    case 'gcp.iam-binding': {
      const t = target as Extract<Target, { kind: 'gcp.iam-binding' }>;
      return flat(m.roles, t.role, false, relation) && flat(m.resources, t.resource, false, relation);
    }
    case 'azure.resource-role': {
      const t = target as Extract<Target, { kind: 'azure.resource-role' }>;
      return flat(m.roleDefinitionIds.map(roleGuid), roleGuid(t.roleDefinitionId), true, relation) && hierarchical(m.scopes, t.scope, relation);
    }
    case 'azure.directory-role': {
      const t = target as Extract<Target, { kind: 'azure.directory-role' }>;
      return flat(m.roleDefinitionIds.map(roleGuid), roleGuid(t.roleDefinitionId), true, relation) && hierarchical(m.directoryScopes, t.directoryScopeId, relation);
    }
    case 'azure.group-membership': {
      const t = target as Extract<Target, { kind: 'azure.group-membership' }>;
      return flat(m.groupIds, t.groupId, true, relation) && m.access.includes(t.access);
    }
    case 'azure.app-role': {
      const t = target as Extract<Target, { kind: 'azure.app-role' }>;
      return flat(m.resourceServicePrincipalIds, t.resourceServicePrincipalId, true, relation) && flat(m.appRoleIds, t.appRoleId, true, relation);
    }
  }
}
