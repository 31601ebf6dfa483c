import { z } from 'zod';
import { YamlIssue } from '@jit/config';
import { AccessPolicy } from '@jit/policy';
import { approvalStepResponse } from './approval-step.response';
import { instantOut, principalResponse, targetResponse } from './wire.schemas';

/** Patterns are RegExps once parsed; the API shows them as written. */
function plain(value: unknown): unknown {
  if (value instanceof RegExp) return value.source;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

const yamlIssue = z.object({ line: z.number().int(), column: z.number().int(), field: z.string(), message: z.string() }).meta({ id: 'RulesFileIssue' });

/** The rules in force as the API shows them (rule and deny-list entries as written in the file, patterns as text). */
export const policyResponse = z
  .object({
    version: z.string().describe('SHA-256 of the rules file'),
    source: z.string(),
    loadedAt: instantOut,
    approvalTimeoutSeconds: z.number().int(),
    groups: z.record(z.string(), z.array(z.string())),
    issuers: z.array(
      z.object({
        name: z.string(),
        issuer: z.string(),
        audiences: z.array(z.string()),
        subjectClaim: z.string(),
        groupsClaim: z.string().nullable(),
        roles: z.array(z.string()),
        clockSkewSeconds: z.number().int(),
      }),
    ),
    breakGlass: z.object({ subjects: z.array(z.string()), maxDuration: z.number().int().describe('seconds') }).nullable(),
    denyList: z.array(z.looseObject({})).describe('deny-list entries as in the rules file'),
    rules: z.array(z.looseObject({ name: z.string() })).describe('rules as in the rules file (docs/access-rules.md)'),
    lastReloadError: z.object({ at: instantOut, issues: z.array(yamlIssue) }).nullable().describe('the last rejected reload; the rules in force stayed'),
  })
  .meta({ id: 'AccessRules', description: 'the access rules in force' });

export const policyReloadResponse = policyResponse
  .extend({ status: z.enum(['loaded', 'unchanged']).describe('whether the file changed since it was last read') })
  .meta({ id: 'AccessRulesReload', description: 'the outcome of a reload and the rules now in force' });

const judgedRequest = z
  .object({ cloud: z.enum(['aws', 'azure', 'gcp']), principal: principalResponse, target: targetResponse, duration: z.string().describe('ISO-8601') })
  .meta({ id: 'JudgedRequest', description: 'the request as the rules judged it (canonical names, normalised duration)' });

const durationBounds = z
  .object({ min: z.string().describe('ISO-8601'), max: z.string().describe('ISO-8601') })
  .meta({ id: 'DurationBounds', description: "the broker's shortest and longest grant (JIT_MIN_DURATION, JIT_MAX_DURATION)" });
const durationLimits = {
  durationBounds,
  maxDuration: z
    .string()
    .describe("ISO-8601: the longest grant this request could get now, the broker's maximum shortened by the rule that decided (or break-glass)"),
};

/** The dry run's verdict: what POST /v1/grants would decide for the caller now. */
export const policyEvaluationResponse = z
  .discriminatedUnion('effect', [
    z.object({
      effect: z.literal('deny'),
      rule: z.string().nullable(),
      code: z.string().describe('why: a stable code such as no_matching_rule or deny_list'),
      reason: z.string(),
      errors: z.array(z.object({ field: z.string(), message: z.string() })),
      policyVersion: z.string(),
      request: judgedRequest,
      ...durationLimits,
    }),
    z.object({
      effect: z.literal('allow'),
      rule: z.string(),
      mode: z.enum(['auto', 'approvals', 'break_glass']),
      approvalsRequired: z.number().int().optional(),
      approverGroups: z.array(z.string()).optional(),
      approvalSteps: z.array(approvalStepResponse).optional(),
      approvalTimeout: z.string().optional().describe('ISO-8601 duration'),
      policyVersion: z.string(),
      request: judgedRequest,
      ...durationLimits,
    }),
  ])
  .meta({ id: 'PolicyEvaluation', description: 'the decision a grant request would get now; nothing stored, audited or granted' });

export type PolicyEvaluationResponse = z.infer<typeof policyEvaluationResponse>;

export function toPolicyResponse(p: AccessPolicy, lastError: { at: Date; issues: YamlIssue[] } | null): z.infer<typeof policyResponse> {
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
    denyList: plain(p.file.denyList) as Record<string, unknown>[],
    rules: plain(p.file.rules) as { name: string }[],
    lastReloadError: lastError && { at: lastError.at.toISOString(), issues: lastError.issues },
  };
}
