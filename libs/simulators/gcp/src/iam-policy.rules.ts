import { GoogleApiError } from './google-api.error';
import { Condition, ConditionSyntaxError, parseCondition } from './iam-condition.evaluator';
import { AuditConfig, Binding, ResourceType } from './iam-policy.types';

/** Principals per allow policy; every occurrence counts (cloud-apis.md C2). */
export const MAX_PRINCIPALS = 1500;
/** Of those, Google groups and domains (cloud-apis.md C2). */
export const MAX_GROUPS_AND_DOMAINS = 250;
/** Bindings that share one role and one principal with different conditions (IAM quotas page, Limits). */
export const MAX_BINDINGS_PER_ROLE_AND_MEMBER = 20;
/** Logic operators (`&&`, `||`, `!`) in one binding's condition expression (IAM quotas page, Limits). */
export const MAX_LOGIC_OPERATORS = 12;
/** Condition field lengths (unverified upstream: chosen on the strict side). */
export const MAX_TITLE = 100;
export const MAX_DESCRIPTION = 256;
export const MAX_EXPRESSION = 12_800;

const BASIC_ROLES = new Set(['roles/owner', 'roles/editor', 'roles/viewer']);
const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
/** Google account and group emails are ASCII: printable characters but `@`, `:` and `?`. */
const EMAIL_PART = '[\\x21-\\x39\\x3b-\\x3e\\x41-\\x7e]+';
const EMAIL = `${EMAIL_PART}@${EMAIL_PART}\\.${EMAIL_PART}`;
const MEMBER = new RegExp(
  [
    `^(user|group|serviceAccount):${EMAIL}$`,
    '^serviceAccount:[a-z][-a-z0-9]{4,28}[a-z0-9]\\.svc\\.id\\.goog\\[[^\\s/\\]]+/[^\\s/\\]]+\\]$',
    '^domain:[a-z0-9-]+(\\.[a-z0-9-]+)+$',
    '^principal(Set)?://iam\\.googleapis\\.com/[\\x21-\\x7e]+$',
    `^deleted:(user|group|serviceAccount):${EMAIL}\\?uid=\\d+$`,
    '^deleted:principal://iam\\.googleapis\\.com/[\\x21-\\x7e]+$',
    '^(allUsers|allAuthenticatedUsers)$',
  ].join('|'),
);
const ROLE = /^(roles\/[A-Za-z0-9_.]{1,100}|(projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]|organizations\/\d{1,20})\/roles\/[A-Za-z0-9_.]{3,64})$/;

function checkCondition(b: Binding, where: string): void {
  const c = b.condition!;
  if (!c.title) throw GoogleApiError.invalid(`${where}: condition title is required.`);
  if (c.title.length > MAX_TITLE) throw GoogleApiError.invalid(`${where}: condition title exceeds ${MAX_TITLE} characters.`);
  if ((c.description ?? '').length > MAX_DESCRIPTION) throw GoogleApiError.invalid(`${where}: condition description exceeds ${MAX_DESCRIPTION} characters.`);
  if (!c.expression) throw GoogleApiError.invalid(`${where}: condition expression is required.`);
  if (c.expression.length > MAX_EXPRESSION) throw GoogleApiError.invalid(`${where}: condition expression exceeds ${MAX_EXPRESSION} characters.`);
  if (BASIC_ROLES.has(b.role)) throw GoogleApiError.invalid(`Conditions are not supported for basic role ${b.role}.`);
  const open = b.members.find((m) => PUBLIC_MEMBERS.has(m));
  if (open) throw GoogleApiError.invalid(`Conditions are not supported for ${open}.`);
  let parsed: Condition;
  try {
    parsed = parseCondition(c.expression);
  } catch (e) {
    if (e instanceof ConditionSyntaxError) throw GoogleApiError.invalid(`${where}: invalid condition expression: ${e.message}`);
    throw e;
  }
  const operators = logicOperators(parsed);
  if (operators > MAX_LOGIC_OPERATORS) {
    throw GoogleApiError.invalid(`${where}: condition expression has ${operators} logic operators; at most ${MAX_LOGIC_OPERATORS} are allowed.`);
  }
}

function logicOperators(c: Condition): number {
  switch (c.op) {
    case 'and':
    case 'or':
      return 1 + logicOperators(c.left) + logicOperators(c.right);
    case 'not':
      return 1 + logicOperators(c.operand);
    case 'const':
    case 'cmp':
      return 0;
  }
}

function checkMember(member: string, type: ResourceType, where: string): void {
  if (!MEMBER.test(member)) throw GoogleApiError.invalid(`Invalid principal ${JSON.stringify(member)} in ${where}: unknown type prefix or malformed identifier.`);
  if (type === 'projects' && PUBLIC_MEMBERS.has(member)) {
    throw GoogleApiError.invalid(`Project does not support ${member} as a principal in a binding (${where}).`);
  }
}

/** Rejects what GCP rejects in a `setIamPolicy` request; `version` is the request's policy version. */
export function checkPolicy(type: ResourceType, version: number, bindings: Binding[], auditConfigs: AuditConfig[]): void {
  if (![0, 1, 3].includes(version)) throw GoogleApiError.invalid(`Invalid policy version ${version}: valid values are 0, 1 and 3.`);
  let principals = 0;
  let groups = 0;
  const perRoleMember = new Map<string, number>();
  bindings.forEach((b, i) => {
    const where = `bindings[${i}]`;
    if (!ROLE.test(b.role)) throw GoogleApiError.invalid(`Role ${JSON.stringify(b.role)} in ${where} is not a valid role name.`);
    if (b.members.length === 0) throw GoogleApiError.invalid(`${where} must contain at least one principal.`);
    for (const m of b.members) {
      checkMember(m, type, where);
      principals += 1;
      if (m.startsWith('group:') || m.startsWith('domain:')) groups += 1;
      const key = `${b.role}\u0000${m}`;
      perRoleMember.set(key, (perRoleMember.get(key) ?? 0) + 1);
    }
    if (b.condition) {
      if (version !== 3) throw GoogleApiError.invalid(`Policy version ${version} cannot contain conditional role bindings; specify version 3.`);
      checkCondition(b, where);
    }
  });
  if (principals > MAX_PRINCIPALS) {
    throw GoogleApiError.invalid(`The number of principals in the policy (${principals}) is larger than the maximum allowed size ${MAX_PRINCIPALS}.`);
  }
  if (groups > MAX_GROUPS_AND_DOMAINS) {
    throw GoogleApiError.invalid(`The number of groups and domains in the policy (${groups}) is larger than the maximum allowed size ${MAX_GROUPS_AND_DOMAINS}.`);
  }
  for (const [key, count] of perRoleMember) {
    if (count > MAX_BINDINGS_PER_ROLE_AND_MEMBER) {
      const [role, member] = key.split('\u0000');
      throw GoogleApiError.invalid(
        `The policy has ${count} bindings for role ${role} and principal ${member}; at most ${MAX_BINDINGS_PER_ROLE_AND_MEMBER} are allowed.`,
      );
    }
  }
  auditConfigs.forEach((a, i) => {
    if (!a.service) throw GoogleApiError.invalid(`audit_configs[${i}].service is required.`);
    for (const l of a.auditLogConfigs ?? []) for (const m of l.exemptedMembers ?? []) checkMember(m, type, `audit_configs[${i}]`);
  });
}

/** GCP merges bindings with the same role and condition and drops repeated principals. */
export function normalizeBindings(bindings: Binding[]): Binding[] {
  const merged = new Map<string, Binding>();
  for (const b of bindings) {
    const key = JSON.stringify([b.role, b.condition?.expression ?? null, b.condition?.title ?? null, b.condition?.description ?? null]);
    const existing = merged.get(key);
    if (existing) existing.members.push(...b.members.filter((m) => !existing.members.includes(m)));
    else merged.set(key, { ...b, members: [...new Set(b.members)] });
  }
  return [...merged.values()];
}
