import { z } from 'zod';
import { parseYamlWithSchema } from '@jit/config';
import { DomainError, DurationBounds, parseGrantRequest } from '@jit/domain';
import { AccessPolicy, PolicyDecision } from './access-policy';

const requesterSchema = z.strictObject({
  /** A static token's subject, or `<issuer name>:<sub>` for an OIDC token. */
  subject: z.string().min(1),
  groups: z.array(z.string().min(1)).optional(),
  /** The issuer's name in the rules file, for a pipeline token. */
  issuer: z.string().min(1).optional(),
  claims: z.record(z.string(), z.unknown()).optional(),
});

const expectSchema = z
  .strictObject({
    effect: z.enum(['allow', 'deny']),
    /** The deciding rule, `deny-list:<name>`, `break-glass`, or null for "no rule matched". */
    rule: z.string().min(1).nullable().optional(),
    code: z.enum(['deny_list', 'no_matching_rule', 'rule_conditions']).optional(),
    approval: z.enum(['auto', 'approvals', 'break_glass']).optional(),
    approvals: z.number().int().min(1).optional(),
  })
  .refine((e) => e.effect === 'deny' || e.code === undefined, { message: 'code is for denials', path: ['code'] })
  .refine((e) => e.effect === 'allow' || (e.approval === undefined && e.approvals === undefined), { message: 'approval is for allowed requests', path: ['approval'] });

export const policyCasesFileSchema = z.strictObject({
  cases: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(200),
        requester: requesterSchema,
        /** A grant request body, exactly as POST /v1/grants takes it. */
        request: z.unknown(),
        expect: expectSchema,
      }),
    )
    .min(1),
});
export type PolicyCase = z.output<typeof policyCasesFileSchema>['cases'][number];

export interface PolicyCaseResult {
  name: string;
  passed: boolean;
  /** What the rules decided, or the request's validation error. */
  decision: PolicyDecision | { effect: 'invalid'; reason: string };
  /** Why a case failed: each expectation the decision did not meet. */
  mismatches: string[];
}

/**
 * Runs a file of example requests against the rules, as `npm run rules -- test` does in a
 * rules repository's CI: each case names a requester, a request body and the expected decision.
 * Offline, so cloud lookups are not made: write GCP projects by id and declare Azure principal
 * types as the directory has them (the broker checks both before the rules).
 */
export function runPolicyCases(policy: AccessPolicy, casesText: string, source: string, bounds: DurationBounds): PolicyCaseResult[] {
  const { cases } = parseYamlWithSchema(casesText, policyCasesFileSchema, source);
  return cases.map((c) => runCase(policy, c, bounds));
}

function runCase(policy: AccessPolicy, c: PolicyCase, bounds: DurationBounds): PolicyCaseResult {
  let decision: PolicyDecision;
  try {
    decision = policy.evaluate(c.requester, parseGrantRequest(c.request, bounds, policy.kinds));
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return { name: c.name, passed: false, decision: { effect: 'invalid', reason: e.message }, mismatches: [`the request is invalid: ${e.message}`] };
  }
  const mismatches: string[] = [];
  const want = c.expect;
  const check = (what: string, expected: unknown, actual: unknown) => {
    if (expected !== undefined && expected !== actual) mismatches.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  };
  check('effect', want.effect, decision.effect);
  check('rule', want.rule, decision.rule);
  if (decision.effect === 'deny') {
    check('code', want.code, decision.code);
  } else {
    check('approval', want.approval, decision.approval.mode);
    check('approvals', want.approvals, decision.approval.mode === 'approvals' ? decision.approval.required : 0);
  }
  return { name: c.name, passed: mismatches.length === 0, decision, mismatches };
}
