import { globCovers, globsOverlap } from './glob';

/**
 * The two questions a rule's matcher answers about one requested target:
 * - `covers`: everything requested lies inside what the matcher names (allow rules);
 * - `touches`: anything requested could fall inside it (the deny-list, checked first).
 */
export type MatchRelation = 'covers' | 'touches';

/** One requested value against a list of patterns (`*`, `?` as IAM has them). */
export function matchPatterns(patterns: readonly string[], value: string, caseInsensitive: boolean, relation: MatchRelation): boolean {
  return patterns.some((p) => (relation === 'covers' ? globCovers(p, value, caseInsensitive) : globsOverlap(p, value, caseInsensitive)));
}

/** A requested list (AWS actions, resources): covered when each item is, touched when any is. */
export function matchEach(patterns: readonly string[], values: readonly string[], caseInsensitive: boolean, relation: MatchRelation): boolean {
  return relation === 'covers'
    ? values.every((v) => matchPatterns(patterns, v, caseInsensitive, 'covers'))
    : values.some((v) => matchPatterns(patterns, v, caseInsensitive, 'touches'));
}

/** `/a/b/c` → `/a/b/c`, `/a/b`, `/a`, `/`: a grant at a scope reaches everything below it. */
function selfAndAncestors(scope: string): string[] {
  const parts = scope.split('/').filter(Boolean);
  const out: string[] = [];
  for (let n = parts.length; n >= 0; n--) out.push('/' + parts.slice(0, n).join('/'));
  return out;
}

/**
 * Path scopes (ARM scopes, Entra directory scopes), case-insensitive: a pattern covers a scope at
 * or below it; it is touched by a request at, below or above it, since a grant above reaches it too.
 */
export function matchScope(patterns: readonly string[], scope: string, relation: MatchRelation): boolean {
  const norm = (s: string) => (s.length > 1 ? s.replace(/\/+$/, '') : s).toLowerCase();
  const chain = selfAndAncestors(norm(scope));
  if (relation === 'covers') return patterns.some((p) => chain.some((a) => globCovers(norm(p), a)));
  const below = chain[0] === '/' ? '/*' : `${chain[0]}/*`;
  return patterns.some((p) => chain.some((a) => globsOverlap(norm(p), a)) || globsOverlap(norm(p), below));
}
