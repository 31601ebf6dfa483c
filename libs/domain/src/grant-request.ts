import { z } from 'zod';
import { CLOUDS, CloudName, PRINCIPAL_TYPES, Principal, TARGET_KINDS, cloudOfKind } from './cloud';
import { parseIsoDurationSeconds } from './duration';
import { DomainError, FieldIssue } from './grant.exception';
import { Target, principalRules, targetSchema } from './target';
import { unstorableValue } from './well-formed-text';

export * from './well-formed-text';

/** The body of a grant request: what every caller must send (the HTTP edge documents it). */
export const grantRequestSchema = z.strictObject({
  cloud: z.enum(CLOUDS),
  principal: z.strictObject({
    type: z.enum(PRINCIPAL_TYPES),
    id: z.string().min(1).max(1024),
  }),
  target: targetSchema,
  duration: z.string().max(64),
  justification: z.string().trim().min(1).max(1024).optional(),
  ticket: z.string().trim().min(1).max(128).regex(/^[\x20-\x7e]+$/, 'must be printable ASCII').optional(),
});

/**
 * The principal type each GCP member prefix denotes, so access rules that restrict
 * `principalTypes` cannot be passed by declaring a whole domain or pool a single user.
 */
const GCP_MEMBER_TYPES: Record<string, 'user' | 'group' | 'workload'> = {
  user: 'user',
  group: 'group',
  serviceAccount: 'workload',
  domain: 'group',
  principalSet: 'group',
};

/** One identity of a pool: a workforce pool holds people, a workload identity pool workloads, `goog/subject` a Google account. */
function gcpPrincipalType(member: string): 'user' | 'workload' | undefined {
  if (/^principal:\/\/iam\.googleapis\.com\/locations\/global\/workforcePools\//.test(member)) return 'user';
  if (/^principal:\/\/iam\.googleapis\.com\/projects\/[^/]+\/locations\/global\/workloadIdentityPools\//.test(member)) return 'workload';
  if (/^principal:\/\/goog\/subject\//.test(member)) return 'user';
  return undefined;
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

export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => {
    const field = fieldPath(i.path);
    if (i.code === 'invalid_union' && field === 'target') {
      return { field: 'target.kind', message: `must be one of ${TARGET_KINDS.join(', ')}` };
    }
    if (i.code === 'unrecognized_keys') {
      return { field: i.keys.map((k) => (field === '(body)' ? k : `${field}.${k}`)).join(', '), message: 'unknown field' };
    }
    return { field, message: i.message };
  });
}

/** Validates a grant request completely, before anything is stored or called. */
export function parseGrantRequest(body: unknown, bounds: DurationBounds): GrantRequest {
  // What is stored must be exactly what was checked and hashed: no lone surrogate, NUL or Infinity anywhere, keys included.
  const unstorable = unstorableValue(body);
  if (unstorable) throw DomainError.validation([unstorable]);
  const parsed = grantRequestSchema.safeParse(body);
  if (!parsed.success) throw DomainError.validation(zodIssues(parsed.error));
  const { cloud, principal, target, duration, justification, ticket } = parsed.data;
  const issues: FieldIssue[] = [];
  if (cloudOfKind(target.kind) !== cloud) {
    issues.push({ field: 'target.kind', message: `${target.kind} is not a ${cloud} kind` });
  }
  const rule = principalRules[target.kind];
  if (!rule.types.includes(principal.type)) {
    issues.push({ field: 'principal.type', message: `${target.kind} accepts ${rule.types.join(', ')}` });
  }
  if (!rule.id.test(principal.id)) issues.push({ field: 'principal.id', message: rule.idMessage });
  else if (cloud === 'gcp') {
    const expected = GCP_MEMBER_TYPES[principal.id.slice(0, principal.id.indexOf(':'))] ?? gcpPrincipalType(principal.id);
    if (expected && expected !== principal.type) {
      issues.push({ field: 'principal.type', message: `this member (${principal.id.split(':')[0]}:) is a ${expected}, not a ${principal.type}` });
    }
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
