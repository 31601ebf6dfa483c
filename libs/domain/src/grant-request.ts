import { z } from 'zod';
import { CLOUDS, CloudName, PRINCIPAL_TYPES, Principal } from './cloud';
import { parseIsoDurationSeconds } from './duration';
import { DomainError, FieldIssue } from './grant.exception';
import { Target } from './target';
import { TargetKinds } from './target-kind';
import { unstorableValue } from './well-formed-text';

export * from './well-formed-text';

function buildGrantRequestSchema(kinds: TargetKinds) {
  return z.strictObject({
    cloud: z.enum(CLOUDS),
    principal: z.strictObject({
      type: z.enum(PRINCIPAL_TYPES),
      id: z.string().min(1).max(1024),
    }),
    target: kinds.targetSchema,
    duration: z.string().max(64),
    justification: z.string().trim().min(1).max(1024).optional(),
    ticket: z.string().trim().min(1).max(128).regex(/^[\x20-\x7e]+$/, 'must be printable ASCII').optional(),
  });
}

const requestSchemas = new WeakMap<TargetKinds, ReturnType<typeof buildGrantRequestSchema>>();

/** The body of a grant request for the kinds of a registry: what every caller must send (the HTTP edge documents it). */
export function grantRequestSchema(kinds: TargetKinds): ReturnType<typeof buildGrantRequestSchema> {
  let schema = requestSchemas.get(kinds);
  if (!schema) requestSchemas.set(kinds, (schema = buildGrantRequestSchema(kinds)));
  return schema;
}

export interface GrantRequest {
  cloud: CloudName;
  principal: Principal;
  target: Target;
  durationSeconds: number;
  justification: string | null;
  ticket: string | null;
}

export interface DurationBounds {
  minSeconds: number;
  maxSeconds: number;
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') || '(body)';
}

/** The problem's field issues for a zod error; `kinds` words an unknown `target.kind`. */
export function zodIssues(error: z.ZodError, kinds?: TargetKinds): FieldIssue[] {
  return error.issues.map((i) => {
    const field = fieldPath(i.path);
    if (i.code === 'invalid_union' && field === 'target' && kinds) {
      return { field: 'target.kind', message: `must be one of ${kinds.names.join(', ')}` };
    }
    if (i.code === 'unrecognized_keys') {
      return { field: i.keys.map((k) => (field === '(body)' ? k : `${field}.${k}`)).join(', '), message: 'unknown field' };
    }
    return { field, message: i.message };
  });
}

/** Validates a grant request completely, before anything is stored or called. */
export function parseGrantRequest(body: unknown, bounds: DurationBounds, kinds: TargetKinds): GrantRequest {
  // What is stored must be exactly what was checked and hashed: no lone surrogate, NUL or Infinity anywhere, keys included.
  const unstorable = unstorableValue(body);
  if (unstorable) throw DomainError.validation([unstorable]);
  const parsed = grantRequestSchema(kinds).safeParse(body);
  if (!parsed.success) throw DomainError.validation(zodIssues(parsed.error, kinds));
  const { cloud, principal, target, duration, justification, ticket } = parsed.data;
  const issues: FieldIssue[] = [];
  const kind = kinds.get(target.kind);
  if (kind.cloud !== cloud) {
    issues.push({ field: 'target.kind', message: `${target.kind} is not a ${cloud} kind` });
  }
  const rule = kind.principals;
  if (!rule.types.includes(principal.type)) {
    issues.push({ field: 'principal.type', message: `${target.kind} accepts ${rule.types.join(', ')}` });
  }
  if (!rule.id.test(principal.id)) issues.push({ field: 'principal.id', message: rule.idMessage });
  else if (kind.cloud === cloud) {
    const implied = rule.impliedType?.(principal.id);
    if (implied && implied.type !== principal.type) issues.push({ field: 'principal.type', message: implied.mismatch(principal.type) });
  }
  const seconds = parseIsoDurationSeconds(duration);
  if (seconds === undefined) {
    issues.push({ field: 'duration', message: 'must be an ISO-8601 duration such as PT20M (no years or months)' });
  } else if (seconds < bounds.minSeconds || seconds > bounds.maxSeconds) {
    issues.push({ field: 'duration', message: `must be between ${bounds.minSeconds}s and ${bounds.maxSeconds}s`, bound: 'duration' });
  }
  if (issues.length) throw DomainError.validation(issues);
  return {
    cloud,
    principal,
    target,
    durationSeconds: seconds!,
    justification: justification ?? null,
    ticket: ticket ?? null,
  };
}
