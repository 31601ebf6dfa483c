import type { FieldIssue } from './grant.exception';

/**
 * Well-formed Unicode: a JS string may hold a lone UTF-16 surrogate (`"\ud800"` in JSON), which
 * UTF-8 cannot encode. PostgreSQL stores such a string as U+FFFD in text and refuses it in jsonb,
 * so anything hashed before it is stored would no longer match what was stored.
 */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** The message of a field refused for a lone surrogate. */
export const ILL_FORMED = 'must be well-formed Unicode (no lone UTF-16 surrogates)';

/** ES2024 `String.prototype.isWellFormed` (Node 20+), typed without raising the project's `lib`. */
export function isWellFormed(text: string): boolean {
  return (text as unknown as WellFormedString).isWellFormed();
}

/** Every lone surrogate replaced by U+FFFD, as PostgreSQL would store it. */
export function toWellFormed(text: string): string {
  return (text as unknown as WellFormedString).toWellFormed();
}

export const NUL_CHARACTER = 'must not contain the NUL character (U+0000)';
export const NOT_FINITE = 'must be a finite number (JSON allows 1e400, which reads as Infinity)';

/**
 * The first value in `value` (a parsed JSON document) that PostgreSQL or the audit hash cannot
 * take as it is: a string or key with a lone surrogate or U+0000 (text and jsonb refuse it), or
 * a number that is not finite. Named by its path (`a.b[2].c`, `(body)` for the root; keys in the
 * path shown well-formed). Deeper than `maxDepth` is an issue too, found before any recursion
 * that deep, so a body of `[[[[...` cannot exhaust the stack.
 */
export function unstorableValue(value: unknown, maxDepth = 64, path = '', depth = 0): FieldIssue | null {
  const here = path || '(body)';
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return { field: here, message: NUL_CHARACTER };
    return isWellFormed(value) ? null : { field: here, message: ILL_FORMED };
  }
  if (typeof value === 'number') return Number.isFinite(value) ? null : { field: here, message: NOT_FINITE };
  if (value === null || typeof value !== 'object') return null;
  if (depth >= maxDepth) return { field: here, message: `nested deeper than ${maxDepth} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableValue(value[i], maxDepth, `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, v] of Object.entries(value)) {
    const field = path ? `${path}.${toWellFormed(key)}` : toWellFormed(key);
    if (key.includes('\u0000')) return { field, message: NUL_CHARACTER };
    if (!isWellFormed(key)) return { field, message: ILL_FORMED };
    const found = unstorableValue(v, maxDepth, field, depth + 1);
    if (found) return found;
  }
  return null;
}

/** A deep copy in which every string and object key is well-formed; other values are kept as they are. */
export function toWellFormedDeep<T>(value: T): T {
  if (typeof value === 'string') return toWellFormed(value) as T;
  if (Array.isArray(value)) return value.map((v) => toWellFormedDeep(v)) as T;
  if (value && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [toWellFormed(k), toWellFormedDeep(v)])) as T;
  }
  return value;
}
