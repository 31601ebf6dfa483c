import { YamlIssue } from '@jit/config';
import { AccessPolicy } from '@jit/policy';

/** Patterns are RegExps once parsed; the API shows them as written. */
function plain(value: unknown): unknown {
  if (value instanceof RegExp) return value.source;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export function toPolicyResponse(p: AccessPolicy, lastError: { at: Date; issues: YamlIssue[] } | null) {
  return {
    version: p.version,
    source: p.source,
    loadedAt: p.loadedAt.toISOString(),
    approvalTimeoutSeconds: p.file.approvalTimeout,
    groups: p.file.groups,
    issuers: p.file.issuers.map((i) => ({
      name: i.name,
      issuer: i.issuer,
      audiences: i.audiences,
      subjectClaim: i.subjectClaim,
      groupsClaim: i.groupsClaim ?? null,
      roles: i.roles,
      clockSkewSeconds: i.clockSkewSeconds,
    })),
    breakGlass: p.file.breakGlass ?? null,
    denyList: plain(p.file.denyList),
    rules: plain(p.file.rules),
    lastReloadError: lastError && { at: lastError.at.toISOString(), issues: lastError.issues },
  };
}
