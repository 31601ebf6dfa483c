/** What a policy document allows, as discovery's criteria read it: the Allow statements' `Action` and `NotAction`. */
export interface AllowedActions {
  actions: string[];
  notActions: string[];
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Principal?: unknown;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM returns documents URL-encoded (RFC 3986); the SDK hands them over as is. */
export function decodePolicy(text: string): string {
  if (text.trimStart().startsWith('{')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function statements(text: string): Statement[] {
  const doc = JSON.parse(decodePolicy(text)) as { Statement?: Statement | Statement[] };
  return doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

/** The Allow statements' actions (conditions and resources not weighed: a standing assignment is judged on what it can allow). */
export function allowedActions(text: string): AllowedActions {
  const actions = new Set<string>();
  const notActions = new Set<string>();
  for (const s of statements(text)) {
    if (s.Effect !== 'Allow') continue;
    list(s.Action).forEach((a) => actions.add(a));
    list(s.NotAction).forEach((a) => notActions.add(a));
  }
  return { actions: [...actions], notActions: [...notActions] };
}

export function mergeAllowed(all: AllowedActions[]): AllowedActions {
  return { actions: [...new Set(all.flatMap((a) => a.actions))], notActions: [...new Set(all.flatMap((a) => a.notActions))] };
}

function glob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(value);
}

/**
 * Whether the allowed actions reach a service (its namespace, `s3`): an action whose service part
 * matches, or a `NotAction` statement that does not exclude the whole service (`s3:*`).
 */
export function reachesService(allowed: AllowedActions, namespace: string): boolean {
  if (allowed.actions.some((a) => a === '*' || glob(a.split(':')[0], namespace))) return true;
  return allowed.notActions.length > 0 && !allowed.notActions.some((a) => a === '*' || (a.endsWith(':*') && glob(a.split(':')[0], namespace)));
}

/**
 * Whether a role is held by people: IAM Identity Center's `AWSReservedSSO_*` roles and roles
 * trusting a SAML provider are (true); service roles and web-identity (OIDC) roles are workloads
 * (false); a role other principals may assume (accounts, users, roles) cannot be told (null).
 */
export function roleIsHuman(role: { name: string; path: string }, trustPolicy: string | undefined): boolean | null {
  if (role.name.startsWith('AWSReservedSSO_') || role.path.startsWith('/aws-reserved/sso.amazonaws.com/')) return true;
  if (role.path.startsWith('/aws-service-role/')) return false;
  if (!trustPolicy) return null;
  let trust: Statement[];
  try {
    trust = statements(trustPolicy).filter((s) => s.Effect === 'Allow');
  } catch {
    return null;
  }
  const principals = trust.map((s) => (typeof s.Principal === 'object' && s.Principal !== null ? (s.Principal as Record<string, string | string[]>) : {}));
  const saml = trust.some((s) => list(s.Action).includes('sts:AssumeRoleWithSAML')) || principals.some((p) => list(p.Federated).some((f) => f.includes(':saml-provider/')));
  if (saml) return true;
  const onlyWorkloads = trust.length > 0 && principals.every((p) => Object.keys(p).length > 0 && Object.keys(p).every((k) => k === 'Service' || k === 'Federated'));
  return onlyWorkloads ? false : null;
}

/**
 * The principals outside `account` a role's trust policy lets assume it: `*` (anyone, any
 * account), another account's id or root, or a user or role of another account, from the Allow
 * statements' `Principal.AWS` (or `Principal: "*"`). Conditions are not weighed (an
 * `aws:PrincipalOrgID` may narrow a `*`): the criteria judge what the policy can allow.
 */
export function externalTrust(trustPolicy: string | undefined, account: string): string[] {
  if (!trustPolicy) return [];
  let trust: Statement[];
  try {
    trust = statements(trustPolicy).filter((s) => s.Effect === 'Allow');
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const s of trust) {
    const aws = s.Principal === '*' ? ['*'] : typeof s.Principal === 'object' && s.Principal !== null ? list((s.Principal as Record<string, string | string[]>).AWS) : [];
    for (const p of aws) {
      const owner = p === '*' ? null : /^\d{12}$/.test(p) ? p : /^arn:aws[\w-]*:(?:iam|sts)::(\d{12}|\*):/.exec(p)?.[1];
      if (owner !== account) out.add(p);
    }
  }
  return [...out];
}
