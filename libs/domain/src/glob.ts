/**
 * Wildcard matching as IAM does it: `*` is any run of characters (including `/`), `?` one
 * character. Hand-written because the glob libraries treat `/` as a separator and none
 * answers the two questions the rules need, which must stay sound when the requested value
 * holds wildcards itself (an IAM action such as `s3:Get*`).
 */

function chars(s: string, caseInsensitive: boolean): string[] {
  return [...(caseInsensitive ? s.toLowerCase() : s)];
}

/**
 * True when every string the `value` pattern stands for is matched by `pattern`: a `*` in the
 * value is covered only by a `*` in the pattern, a `?` only by a `?` or `*`.
 */
export function globCovers(pattern: string, value: string, caseInsensitive = false): boolean {
  const p = chars(pattern, caseInsensitive);
  const v = chars(value, caseInsensitive);
  // reach[j]: p[0..i) can cover v[0..j)
  let reach: boolean[] = new Array<boolean>(v.length + 1).fill(false);
  reach[0] = true;
  for (const pc of p) {
    const next = new Array<boolean>(v.length + 1).fill(false);
    if (pc === '*') {
      let any = false;
      for (let j = 0; j <= v.length; j++) {
        any = any || reach[j];
        next[j] = any;
      }
    } else {
      for (let j = 1; j <= v.length; j++) {
        if (!reach[j - 1]) continue;
        const vc = v[j - 1];
        next[j] = pc === '?' ? vc !== '*' : vc !== '*' && vc !== '?' && vc === pc;
      }
    }
    reach = next;
  }
  return reach[v.length];
}

/** True when some string matches both patterns: what a deny-list needs to catch `iam:*` against `iam:PassRole`. */
export function globsOverlap(a: string, b: string, caseInsensitive = false): boolean {
  const x = chars(a, caseInsensitive);
  const y = chars(b, caseInsensitive);
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (y.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let r: boolean;
    if (i === x.length && j === y.length) r = true;
    else if (i < x.length && x[i] === '*') r = go(i + 1, j) || (j < y.length && go(i, j + 1)) || (j < y.length && y[j] === '*' && go(i + 1, j + 1));
    else if (j < y.length && y[j] === '*') r = go(i, j + 1) || (i < x.length && go(i + 1, j));
    else if (i < x.length && j < y.length) r = (x[i] === '?' || y[j] === '?' || x[i] === y[j]) && go(i + 1, j + 1);
    else r = false;
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}
