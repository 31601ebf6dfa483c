/**
 * How long a cloud typically takes to apply an access change everywhere after its API call
 * succeeds, as the clouds document it; `jit exec --propagation` waits this long after the
 * grant is `active` before it starts the command (docs/clients.md). STS credentials need no
 * wait: they are valid when issued.
 */
export const PROPAGATION_SECONDS: Record<string, number> = {
  /** IAM is eventually consistent; AWS documents changes as taking "a few seconds" (docs/providers/aws.md). */
  aws: 10,
  /** Google documents IAM policy changes as typically taking effect within 2 minutes (up to 7 and more in rare cases). */
  gcp: 120,
  /** Azure RBAC documents role assignment changes as taking up to 10 minutes to be observed by Resource Manager. */
  azure: 600,
};

/** Kinds whose access is in hand the moment the grant is active. */
const NO_PROPAGATION_KINDS = new Set(['aws.sts-credentials']);

export function propagationSeconds(cloud: string, kind: string): number {
  return NO_PROPAGATION_KINDS.has(kind) ? 0 : (PROPAGATION_SECONDS[cloud] ?? 0);
}
