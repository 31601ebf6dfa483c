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

/**
 * The path (`a.b[2].c`, `(body)` for the root) of the first string or object key in `value`
 * that is not well-formed, or null. Keys in the path are shown well-formed.
 */
export function illFormedTextPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return isWellFormed(value) ? null : path || '(body)';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = illFormedTextPath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const field = path ? `${path}.${toWellFormed(key)}` : toWellFormed(key);
      if (!isWellFormed(key)) return field;
      const found = illFormedTextPath(v, field);
      if (found) return found;
    }
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
