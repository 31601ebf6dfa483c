import { ProviderError } from '@jit/domain';
import { bindingDescription, bindingTitle, expiryExpression, parseBrokerBinding } from './broker-binding.convention';
import { MAX_BINDINGS_PER_ROLE_AND_MEMBER, MAX_GROUPS_AND_DOMAINS, MAX_PRINCIPALS } from './gcp-policy.limits';
import type { IamBinding, IamPolicy } from './resource-manager.gateway';

/** A binding's condition as discovery keeps it to find the binding again (or rebuild it). */
export interface StandingCondition {
  expression: string;
  title?: string;
  description?: string;
}

export type PolicyChange =
  | { type: 'add'; grantId: string; role: string; member: string; expiresAt: Date; requestedBy: string }
  | { type: 'remove'; grantId: string; role: string; member: string }
  /** Discovery's removal of a standing member from the binding of `role` with `condition` (none: the unconditional one). */
  | { type: 'detach'; role: string; member: string; condition: StandingCondition | null }
  /** Its restore: the member back in that binding, the binding recreated if it is gone. */
  | { type: 'attach'; role: string; member: string; condition: StandingCondition | null };

export interface EditResult {
  /** The policy to write: every field of the one read, only the broker's bindings changed. */
  policy: IamPolicy;
  /** Per change, in order: null if applied (or already in place), else why it was refused. */
  refusals: Array<ProviderError | null>;
  /** False when the policy already says what the changes ask: no write is needed. */
  changed: boolean;
  /** Expired broker bindings dropped on the way. */
  purged: number;
}

const isOwn = (b: IamBinding, grantId: string, role: string, member: string): boolean => {
  const own = parseBrokerBinding(b);
  return own !== null && own.grantId === grantId && own.role === role && own.member === member;
};

function countPrincipals(bindings: IamBinding[]): { all: number; groups: number } {
  let all = 0;
  let groups = 0;
  for (const b of bindings) {
    for (const m of b.members ?? []) {
      all += 1;
      if (m.startsWith('group:') || m.startsWith('domain:')) groups += 1;
    }
  }
  return { all, groups };
}

function limitRefusal(bindings: IamBinding[], role: string, member: string): ProviderError | null {
  const { all, groups } = countPrincipals(bindings);
  if (all + 1 > MAX_PRINCIPALS) {
    return new ProviderError('limit', `the policy already holds ${all} principals; GCP allows at most ${MAX_PRINCIPALS} per allow policy`, {
      code: 'gcp.max-principals-per-policy',
    });
  }
  if ((member.startsWith('group:') || member.startsWith('domain:')) && groups + 1 > MAX_GROUPS_AND_DOMAINS) {
    return new ProviderError('limit', `the policy already holds ${groups} groups and domains; GCP allows at most ${MAX_GROUPS_AND_DOMAINS}`, {
      code: 'gcp.max-groups-per-policy',
    });
  }
  const same = bindings.filter((b) => b.role === role && (b.members ?? []).includes(member)).length;
  if (same + 1 > MAX_BINDINGS_PER_ROLE_AND_MEMBER) {
    return new ProviderError(
      'limit',
      `${member} already has ${same} bindings for ${role} on this resource; GCP allows at most ${MAX_BINDINGS_PER_ROLE_AND_MEMBER} bindings with the same role and principal`,
      { code: 'gcp.max-bindings-per-role-and-member' },
    );
  }
  return null;
}

const sameCondition = (b: IamBinding, condition: StandingCondition | null): boolean =>
  condition === null ? !b.condition : !!b.condition && (b.condition.expression ?? '') === condition.expression && (b.condition.title ?? '') === (condition.title ?? '');

/** The bindings without `member` in the matching binding(s); the same array when it is not there. */
function detach(bindings: IamBinding[], c: { role: string; member: string; condition: StandingCondition | null }): IamBinding[] {
  if (!bindings.some((b) => b.role === c.role && sameCondition(b, c.condition) && (b.members ?? []).includes(c.member))) return bindings;
  return bindings
    .map((b) => (b.role === c.role && sameCondition(b, c.condition) ? { ...b, members: (b.members ?? []).filter((m) => m !== c.member) } : b))
    .filter((b) => (b.members ?? []).length > 0);
}

/** The bindings with `member` back in the matching binding (made if missing); the same array when it is there. */
function attach(bindings: IamBinding[], c: { role: string; member: string; condition: StandingCondition | null }): IamBinding[] | ProviderError {
  const index = bindings.findIndex((b) => b.role === c.role && sameCondition(b, c.condition));
  if (index >= 0 && (bindings[index].members ?? []).includes(c.member)) return bindings;
  const { all, groups } = countPrincipals(bindings);
  if (all + 1 > MAX_PRINCIPALS || ((c.member.startsWith('group:') || c.member.startsWith('domain:')) && groups + 1 > MAX_GROUPS_AND_DOMAINS)) {
    return new ProviderError('limit', `the policy has no room for ${c.member} again (GCP allows ${MAX_PRINCIPALS} principals, ${MAX_GROUPS_AND_DOMAINS} groups and domains)`, {
      code: 'gcp.max-principals-per-policy',
    });
  }
  if (index >= 0) return bindings.map((b, i) => (i === index ? { ...b, members: [...(b.members ?? []), c.member] } : b));
  const condition = c.condition && { expression: c.condition.expression, ...(c.condition.title && { title: c.condition.title }), ...(c.condition.description && { description: c.condition.description }) };
  return [...bindings, { role: c.role, members: [c.member], ...(condition && { condition }) }];
}

/**
 * Applies grants and revocations to a policy read with version 3. Expired broker bindings are
 * purged first (they grant nothing, but count toward the limits); other bindings, audit configs
 * and the etag are carried over untouched, and the result is always written as version 3.
 */
export function editPolicy(read: IamPolicy, changes: readonly PolicyChange[], now: Date): EditResult {
  const original = read.bindings ?? [];
  let bindings = original.filter((b) => {
    const own = parseBrokerBinding(b);
    return own === null || own.expiresAt.getTime() > now.getTime();
  });
  const purged = original.length - bindings.length;
  let changed = purged > 0;
  const refusals = changes.map((c): ProviderError | null => {
    if (c.type === 'detach' || c.type === 'attach') {
      const edit = c.type === 'detach' ? detach(bindings, c) : attach(bindings, c);
      if (edit instanceof ProviderError) return edit;
      changed ||= edit !== bindings;
      bindings = edit;
      return null;
    }
    if (c.type === 'remove') {
      const kept = bindings.filter((b) => !isOwn(b, c.grantId, c.role, c.member));
      changed ||= kept.length !== bindings.length;
      bindings = kept;
      return null;
    }
    const condition = {
      title: bindingTitle(c.grantId),
      description: bindingDescription(c.grantId, c.requestedBy, c.expiresAt),
      expression: expiryExpression(c.expiresAt),
    };
    const existing = bindings.findIndex((b) => isOwn(b, c.grantId, c.role, c.member));
    if (existing >= 0) {
      // Grant twice = once; a changed window (an extension) rewrites this grant's condition only.
      if (bindings[existing].condition?.expression === condition.expression) return null;
      bindings = bindings.map((b, i) => (i === existing ? { role: c.role, members: [c.member], condition } : b));
      changed = true;
      return null;
    }
    if (c.expiresAt.getTime() <= now.getTime()) return null;
    const refusal = limitRefusal(bindings, c.role, c.member);
    if (refusal) return refusal;
    bindings = [...bindings, { role: c.role, members: [c.member], condition }];
    changed = true;
    return null;
  });
  return { policy: { ...read, version: 3, bindings }, refusals, changed, purged };
}
