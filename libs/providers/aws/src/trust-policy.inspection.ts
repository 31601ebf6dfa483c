/** IAM action wildcards, case-insensitive: `*` any run of characters, `?` one. */
function actionMatches(pattern: string, action: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(action);
}

const list = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * False only when no Allow statement of the trust policy could grant `action` to anyone: then
 * STS must refuse it, whoever the broker is. Whether a statement's principal and conditions
 * match the broker is left to STS, whose `AccessDenied` names the action it refused.
 */
export function trustPolicyCanAllow(trustPolicy: unknown, action: string): boolean {
  const statements = (trustPolicy as { Statement?: unknown } | undefined)?.Statement;
  if (statements === undefined) return true; // unreadable: let STS decide
  return (Array.isArray(statements) ? statements : [statements]).some((s: Record<string, unknown>) => {
    if (s?.Effect !== 'Allow') return false;
    if (s.Action !== undefined) return list(s.Action).some((p) => actionMatches(p, action));
    return s.NotAction !== undefined && !list(s.NotAction).some((p) => actionMatches(p, action));
  });
}
