import { randomUUID } from 'node:crypto';
import { JsonServiceModel, JsonShape } from './json-model.types';

/** The media type of every awsJson1_1 request and reply. */
export const AMZ_JSON_1_1 = 'application/x-amz-json-1.1';

/**
 * An awsJson1_1 error reply: `{"__type": code, "Message": ...}` plus the exception's other modeled
 * members (`Reason`, `RequestId`, `ResourceType`...). The models declare no HTTP status for these
 * services' errors (no `error.httpStatusCode`), and the services answer client errors with 400 and
 * faults (`InternalServerException`, `ServiceException`) with 500; the SDK picks the error class
 * from `__type`, not from the status.
 */
export class JsonSimError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly members: Record<string, unknown> = {},
    readonly status: number = 400,
  ) {
    super(message);
    this.name = 'JsonSimError';
  }
}

/** Per-service ways of refusing a malformed request (sso-admin and identitystore answer `ValidationException`). */
export interface ValidationStyle {
  /** Builds the error for the violations found (at least one). */
  reject(violations: Violation[]): JsonSimError;
}

export interface Violation {
  /** The member path as the service names it: `instanceArn`, `tags.1.member.key`. */
  path: string;
  /** null when the member is missing; undefined when the value is withheld (sensitive or long). */
  value: string | null | undefined;
  /** `Member must ...`, the constraint as the service words it. */
  constraint: string;
  kind: 'required' | 'min-length' | 'max-length' | 'pattern' | 'enum' | 'min-value' | 'max-value' | 'union';
}

/**
 * The standard AWS (Coral) validation message: `N validation error(s) detected: Value 'x' at 'path'
 * failed to satisfy constraint: Member must ...; Value ...`.
 */
export function validationMessage(violations: Violation[]): string {
  const parts = violations.map((v) => {
    const value = v.value === null ? 'null ' : v.value === undefined ? '' : `'${v.value}' `;
    return `Value ${value}at '${v.path}' failed to satisfy constraint: ${v.constraint}`;
  });
  const n = violations.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${parts.join('; ')}`;
}

export const coralValidation: ValidationStyle = {
  reject: (violations) => new JsonSimError('ValidationException', validationMessage(violations)),
};

const patternCache = new Map<string, RegExp>();

/**
 * A botocore pattern as a JavaScript RegExp matched against the whole value (AWS anchors them).
 * Java-only syntax is translated: `(?i)` before a group becomes a case-insensitive class per letter,
 * escaped spaces and quotes (invalid in Unicode mode) lose their backslash.
 */
export function modelPattern(pattern: string): RegExp {
  const cached = patternCache.get(pattern);
  if (cached) return cached;
  let source = pattern.replace(/\(\?i\)\(([a-z|]+)\)/g, (_m, alternatives: string) =>
    `(?:${alternatives.split('|').map((w) => [...w].map((c) => `[${c}${c.toUpperCase()}]`).join('')).join('|')})`,
  );
  source = source.replace(/\\u([0-9A-Fa-f]{5,6})/g, '\\u{$1}');
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${source})$`, 'u');
  } catch {
    regex = new RegExp(`^(?:${source.replace(/\\([ '"&#@%~=!:,;<>`])/g, '$1')})$`, 'u');
  }
  patternCache.set(pattern, regex);
  return regex;
}

/** A request body member of the wrong JSON type: the services answer `SerializationException`. */
function serialization(path: string, expected: string): JsonSimError {
  return new JsonSimError('SerializationException', `Unexpected value at '${path}': expected ${expected}`);
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/**
 * Checks `value` against the model's shape the way the service's request validation does:
 * required members, union members (exactly one), string length and pattern, enums, integer ranges,
 * list lengths. Members the model does not declare are ignored (the services accept and drop them).
 * Throws `SerializationException` for a value of the wrong JSON type; returns the constraint violations.
 */
export function validateShape(model: JsonServiceModel, shapeName: string, value: unknown, path = ''): Violation[] {
  const shape: JsonShape | undefined = model.shapes[shapeName];
  if (!shape) throw new Error(`no shape ${shapeName} in the model`);
  const here = path || shapeName;
  const withheld = (s: string) => (shape.sensitive || [...s].length > 256 ? undefined : s);
  // A `document` (Identity Store's AttributeValue) is any JSON value.
  if (shape.document) return [];
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serialization(here, 'an object');
      const object = value as Record<string, unknown>;
      const violations: Violation[] = [];
      for (const name of shape.required ?? []) {
        if (object[name] === undefined || object[name] === null) {
          violations.push({ path: join(path, lowerFirst(name)), value: null, constraint: 'Member must not be null', kind: 'required' });
        }
      }
      const present = Object.keys(shape.members ?? {}).filter((m) => object[m] !== undefined && object[m] !== null);
      if (shape.union && present.length !== 1) {
        violations.push({ path: here, value: undefined, constraint: 'Member must have exactly one member set', kind: 'union' });
      }
      for (const name of present) violations.push(...validateShape(model, shape.members![name].shape, object[name], join(path, lowerFirst(name))));
      return violations;
    }
    case 'list': {
      if (!Array.isArray(value)) throw serialization(here, 'a list');
      const violations: Violation[] = [];
      if (shape.min !== undefined && value.length < shape.min) {
        violations.push({ path: here, value: undefined, constraint: `Member must have length greater than or equal to ${shape.min}`, kind: 'min-length' });
      }
      if (shape.max !== undefined && value.length > shape.max) {
        violations.push({ path: here, value: undefined, constraint: `Member must have length less than or equal to ${shape.max}`, kind: 'max-length' });
      }
      value.forEach((item, i) => violations.push(...validateShape(model, shape.member!.shape, item, `${here}.${i + 1}.member`)));
      return violations;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serialization(here, 'a map');
      return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => [
        ...validateShape(model, shape.key!.shape, k, `${here}.${k}.key`),
        ...validateShape(model, shape.value!.shape, v, `${here}.${k}.value`),
      ]);
    }
    case 'string': {
      if (typeof value !== 'string') throw serialization(here, 'a string');
      const violations: Violation[] = [];
      const length = [...value].length;
      if (shape.enum && !shape.enum.includes(value)) {
        violations.push({ path: here, value: withheld(value), constraint: `Member must satisfy enum value set: [${shape.enum.join(', ')}]`, kind: 'enum' });
      }
      if (shape.min !== undefined && length < shape.min) {
        violations.push({ path: here, value: withheld(value), constraint: `Member must have length greater than or equal to ${shape.min}`, kind: 'min-length' });
      }
      if (shape.max !== undefined && length > shape.max) {
        violations.push({ path: here, value: undefined, constraint: `Member must have length less than or equal to ${shape.max}`, kind: 'max-length' });
      }
      if (shape.pattern && !modelPattern(shape.pattern).test(value)) {
        violations.push({ path: here, value: withheld(value), constraint: `Member must satisfy regular expression pattern: ${shape.pattern}`, kind: 'pattern' });
      }
      // Like the service, one violation per member: the first constraint it fails.
      return violations.slice(0, 1);
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(here, 'an integer');
      if (shape.min !== undefined && value < shape.min) {
        return [{ path: here, value: String(value), constraint: `Member must have value greater than or equal to ${shape.min}`, kind: 'min-value' }];
      }
      if (shape.max !== undefined && value > shape.max) {
        return [{ path: here, value: String(value), constraint: `Member must have value less than or equal to ${shape.max}`, kind: 'max-value' }];
      }
      return [];
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw serialization(here, 'a boolean');
      return [];
    case 'timestamp':
      if (typeof value !== 'number' && typeof value !== 'string') throw serialization(here, 'a timestamp');
      return [];
    default:
      return [];
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** Epoch seconds, as awsJson1_1 serializes timestamps. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

export function newRequestId(): string {
  return randomUUID();
}

/**
 * Opaque page tokens: the operation, a fingerprint of the request's filters and the next offset,
 * base64 (standard alphabet, within every served model's NextToken pattern). A token from another
 * operation or another filter is refused.
 */
export function encodePageToken(operation: string, scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ o: operation, s: scope, n: offset })).toString('base64');
}

export function decodePageToken(token: string, operation: string, scope: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { o?: unknown; s?: unknown; n?: unknown };
    if (parsed.o !== operation || parsed.s !== scope || typeof parsed.n !== 'number' || !Number.isInteger(parsed.n) || parsed.n < 0) return undefined;
    return parsed.n;
  } catch {
    return undefined;
  }
}

/** One page of `items` from the request's `NextToken`/`MaxResults`; `invalidToken` builds the service's error. */
export function page<T>(
  items: readonly T[],
  input: { NextToken?: unknown; MaxResults?: unknown },
  operation: string,
  scope: string,
  defaultMax: number,
  invalidToken: () => JsonSimError,
): { items: T[]; nextToken?: string } {
  let start = 0;
  if (typeof input.NextToken === 'string') {
    const offset = decodePageToken(input.NextToken, operation, scope);
    if (offset === undefined || offset > items.length) throw invalidToken();
    start = offset;
  }
  const max = typeof input.MaxResults === 'number' ? input.MaxResults : defaultMax;
  const slice = items.slice(start, start + max);
  const next = start + slice.length;
  return { items: slice, nextToken: next < items.length ? encodePageToken(operation, scope, next) : undefined };
}
