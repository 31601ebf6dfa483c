import { createHash } from 'node:crypto';
import { GoogleApiError } from './google-api.error';

/**
 * The query string of a Google REST list/search call read the way Google's front end reads it:
 * a parameter the method does not declare is a 400 (system parameters such as `$alt` aside),
 * `pageSize` is an int32, and `pageToken` must come from the previous page of the same call.
 */

/** System parameters every Google REST method accepts (the discovery documents' `parameters`). */
const SYSTEM_PARAMETERS = new Set([
  '$alt', '$.xgafv', 'alt', 'access_token', 'callback', 'fields', 'key', 'oauth_token', 'prettyPrint', 'quotaUser', 'upload_protocol', 'uploadType',
]);

export interface ListRequest {
  params: Record<string, string>;
  pageSize: number;
  /** The name after which this page starts (from `pageToken`), or null for the first page. */
  after: string | null;
  /** Binds a page token to the call's other parameters. */
  fingerprint: string;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Reads a GET list call's parameters; `declared` are the method's own, besides pageSize/pageToken. */
export function readListRequest(url: URL, declared: readonly string[], sizes: { default: number; max: number }): ListRequest {
  const params: Record<string, string> = {};
  let pageSize = sizes.default;
  let token: string | undefined;
  for (const [key, value] of url.searchParams) {
    if (SYSTEM_PARAMETERS.has(key)) continue;
    if (key === 'pageSize' || key === 'page_size') {
      if (!/^-?\d+$/.test(value) || Math.abs(Number(value)) >= 2 ** 31) {
        throw GoogleApiError.invalid(`Invalid value at 'page_size' (TYPE_INT32), "${value}"`);
      }
      const n = Number(value);
      // Google ignores non-positive sizes ("the server picks") and caps large ones.
      pageSize = n <= 0 ? sizes.default : Math.min(n, sizes.max);
      continue;
    }
    if (key === 'pageToken' || key === 'page_token') {
      token = value;
      continue;
    }
    const field = declared.find((d) => d === key || snake(d) === key);
    if (!field) {
      throw GoogleApiError.invalid(
        `Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. Field '${key}' could not be found in request message.`,
      );
    }
    params[field] = value;
  }
  const fingerprint = createHash('sha256').update(url.pathname).update(JSON.stringify(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)))).digest('base64url').slice(0, 16);
  return { params, pageSize, after: token ? readToken(token, fingerprint) : null, fingerprint };
}

function readToken(token: string, fingerprint: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { f?: unknown; a?: unknown };
    if (parsed.f === fingerprint && typeof parsed.a === 'string') return parsed.a;
  } catch {
    // fall through: not one of ours
  }
  throw GoogleApiError.invalid('The page token is invalid, or was issued for a call with other parameters.');
}

/** One page of `items` (sorted by `name`) and the token of the next, if any. */
export function pageOf<T>(items: readonly T[], name: (item: T) => string, request: ListRequest): { page: T[]; nextPageToken?: string } {
  const sorted = [...items].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  const rest = request.after === null ? sorted : sorted.filter((i) => name(i) > request.after!);
  const page = rest.slice(0, request.pageSize);
  if (rest.length <= request.pageSize) return { page };
  const last = name(page[page.length - 1]);
  return { page, nextPageToken: Buffer.from(JSON.stringify({ f: request.fingerprint, a: last })).toString('base64url') };
}

/** A term of a search query or list filter: `field:value`, `field=value` or `field = "value"`. */
export interface QueryTerm {
  field: string;
  value: string;
}

/**
 * Parses the subset of Google's search/filter syntax the simulator serves: terms joined by `AND`
 * or `OR` (either case), quoted values, and an `implicit` operator between adjacent terms
 * (projects.search ORs them, as its reference says). Returns OR-groups of AND-ed terms.
 * `NOT` and parentheses are refused rather than misread.
 */
export function parseQuery(query: string, implicit: 'AND' | 'OR', param: string): QueryTerm[][] {
  const tokens = query.match(/"(?:[^"\\]|\\.)*"|[^\s"=:]+\s*[:=]\s*(?:"(?:[^"\\]|\\.)*"|[^\s"]+)|\S+/g) ?? [];
  const groups: QueryTerm[][] = [[]];
  let pending: 'AND' | 'OR' | null = null;
  for (const token of tokens) {
    const upper = token.toUpperCase();
    if (upper === 'AND' || upper === 'OR') {
      if (pending !== null || groups[groups.length - 1].length === 0) throw GoogleApiError.invalid(`Invalid ${param} "${query}": misplaced ${upper}.`);
      pending = upper;
      continue;
    }
    const term = /^([A-Za-z][\w.]*)\s*[:=]\s*(.+)$/.exec(token);
    if (!term) throw GoogleApiError.invalid(`Invalid ${param} "${query}": cannot parse "${token}" (the simulator supports field:value terms joined by AND or OR).`);
    const value = term[2].startsWith('"') ? term[2].slice(1, -1).replace(/\\(.)/g, '$1') : term[2];
    const operator = groups[groups.length - 1].length === 0 ? 'AND' : (pending ?? implicit);
    if (operator === 'OR') groups.push([]);
    groups[groups.length - 1].push({ field: term[1], value });
    pending = null;
  }
  if (pending !== null) throw GoogleApiError.invalid(`Invalid ${param} "${query}": it ends with ${pending}.`);
  return groups[0].length === 0 ? [] : groups;
}

/** Case-insensitive match with a trailing `*` wildcard, as Resource Manager's search compares. */
export function matchesValue(actual: string | undefined, pattern: string): boolean {
  if (actual === undefined) return false;
  const a = actual.toLowerCase();
  const p = pattern.toLowerCase();
  return p.endsWith('*') ? a.startsWith(p.slice(0, -1)) : a === p;
}

/** Whether an item passes OR-groups of AND-ed terms; `field` reads a term against the item. */
export function matchesQuery<T>(groups: QueryTerm[][], item: T, field: (item: T, term: QueryTerm) => boolean): boolean {
  return groups.length === 0 || groups.some((all) => all.every((term) => field(item, term)));
}
