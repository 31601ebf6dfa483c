import { z } from 'zod';
import { RuleMatcher, TargetKinds, parseIsoDurationSeconds, rulePatterns } from '@jit/domain';
import { oidcIssuersSchema } from '@jit/identity';

/**
 * Roles an OIDC issuer may give to every token it signs. Anyone can get a token from a public
 * issuer (any GitHub repository, any Google service account), so auditor and admin are static
 * tokens only; approvers still need membership of a rule's group.
 */
const ISSUER_ROLES = ['requester', 'approver'];
/**
 * Roles an issuer may give by group (`groupRoles`): only tokens in the named groups get them, so
 * auditor too, for a company IdP whose groups claim the company controls; admin stays static.
 */
const GROUP_ROLES = ['requester', 'approver', 'auditor'];

const NAME = /^[A-Za-z0-9][\w.:-]{0,79}$/;
const name = (what: string) => z.string().regex(NAME, `${what} must be 1-80 letters, digits, "_", ".", ":" or "-"`);

export const durationSeconds = z.string().transform((v, ctx) => {
  const s = parseIsoDurationSeconds(v);
  if (s === undefined || s <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a positive ISO-8601 duration such as PT1H' });
    return z.NEVER;
  }
  return s;
});

const regex = z.string().max(1024).transform((v, ctx) => {
  try {
    return new RegExp(v, 'u');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `is not a valid regular expression: ${(e as Error).message}` });
    return z.NEVER;
  }
});

/**
 * What a rule may grant, per kind, from the kinds' descriptors (`rules.fields`). Every permission
 * and scope field is required (write `["*"]` to mean any), so a forgotten field never silently
 * widens a rule.
 */
function targetMatcherSchema(kinds: TargetKinds) {
  const matchers = kinds.all().map((d) => z.strictObject({ kind: z.literal(d.kind), ...d.rules.fields }));
  return z.discriminatedUnion('kind', matchers as [(typeof matchers)[number], ...(typeof matchers)[number][]]) as unknown as z.ZodType<TargetMatcher>;
}
export type TargetMatcher = RuleMatcher;

const claimValue = z.union([z.string().min(1).max(1024), z.array(z.string().min(1).max(1024)).min(1).max(100)]);

/** One way to be a requester: every field given must hold (AND); a rule's list of these is an OR. */
export const requesterMatcherSchema = z
  .strictObject({
    subjects: rulePatterns.optional(),
    groups: z.array(name('a group')).min(1).optional(),
    issuer: name('an issuer').optional(),
    claims: z.record(z.string().min(1).max(256), claimValue).optional(),
  })
  .refine((r) => r.subjects || r.groups || r.issuer || r.claims, 'name at least one of subjects, groups, issuer, claims')
  .refine((r) => !r.claims || r.issuer, { message: 'claims need the issuer that vouches for them', path: ['issuer'] })
  .refine((r) => !r.issuer || r.claims || r.subjects, {
    message: 'an issuer alone matches every token it signs (any repository, any account): add claims or subjects',
    path: ['claims'],
  });
export type RequesterMatcher = z.output<typeof requesterMatcherSchema>;

const textRequirement = z.strictObject({
  required: z.boolean().default(false),
  pattern: regex.optional(),
  description: z.string().max(200).optional(),
});
export type TextRequirement = z.output<typeof textRequirement>;

const approvalStep = z.strictObject({
  approvals: z.number().int().min(1).max(10),
  from: z.array(name('a group')).min(1),
});

const approvalSchema = z.union([
  z.literal('auto'),
  // N distinct approvers from any of the groups.
  approvalStep.extend({ timeout: durationSeconds.optional() }),
  // Every step met, by distinct approvers: e.g. one from the owning team and one from security.
  z.strictObject({
    allOf: z.array(approvalStep).min(2).max(5),
    timeout: durationSeconds.optional(),
  }),
]);

const ruleSchema = (targets: z.ZodType<TargetMatcher>) => z.strictObject({
  name: name('a rule name'),
  description: z.string().max(500).optional(),
  requesters: z.array(requesterMatcherSchema).min(1),
  targets: z.array(targets).min(1),
  maxDuration: durationSeconds,
  justification: textRequirement.optional(),
  ticket: textRequirement.optional(),
  approval: approvalSchema,
});
export type AccessRule = z.output<ReturnType<typeof ruleSchema>>;

const denyEntrySchema = (targets: z.ZodType<TargetMatcher>) => z.strictObject({
  name: name('a deny-list entry name'),
  reason: z.string().min(1).max(500).optional(),
  targets: z.array(targets).min(1),
});
export type DenyEntry = z.output<ReturnType<typeof denyEntrySchema>>;

const fileSchemas = new WeakMap<TargetKinds, ReturnType<typeof buildAccessPolicyFileSchema>>();

/** The access-rules file (JIT_POLICY_FILE) for the kinds of a registry. */
export function accessPolicyFileSchema(kinds: TargetKinds): ReturnType<typeof buildAccessPolicyFileSchema> {
  let schema = fileSchemas.get(kinds);
  if (!schema) fileSchemas.set(kinds, (schema = buildAccessPolicyFileSchema(targetMatcherSchema(kinds))));
  return schema;
}

const buildAccessPolicyFileSchema = (targets: z.ZodType<TargetMatcher>) => z
  .strictObject({
    version: z.literal(1),
    /** How long a request may wait for approvals unless its rule says otherwise. */
    approvalTimeout: durationSeconds.default(14_400),
    groups: z.record(name('a group'), z.array(z.string().min(1).max(512)).max(1000)).default({}),
    issuers: oidcIssuersSchema.default([]),
    breakGlass: z
      .strictObject({
        subjects: z.array(z.string().min(1).max(512)).min(1),
        maxDuration: durationSeconds,
      })
      .optional(),
    denyList: z.array(denyEntrySchema(targets)).default([]),
    rules: z.array(ruleSchema(targets)).default([]),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `rule "${r.name}" is defined twice` });
      seen.set(r.name, i);
      const declared = (g: string) => Object.hasOwn(file.groups, g);
      r.requesters.forEach((q, j) =>
        q.groups?.forEach((g, k) => {
          if (!declared(g)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'requesters', j, 'groups', k], message: `group "${g}" is not declared under groups` });
        }),
      );
      if (r.approval !== 'auto') {
        const steps = 'allOf' in r.approval ? r.approval.allOf.map((s, n) => ({ s, at: ['allOf', n] })) : [{ s: r.approval, at: [] }];
        for (const { s, at } of steps) {
          s.from.forEach((g, k) => {
            if (!declared(g)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'approval', ...at, 'from', k], message: `group "${g}" is not declared under groups` });
          });
        }
      }
      r.requesters.forEach((q, j) => {
        if (q.issuer && !file.issuers.some((iss) => iss.name === q.issuer)) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'requesters', j, 'issuer'], message: `issuer "${q.issuer}" is not declared under issuers` });
        }
      });
    });
    file.issuers.forEach((iss, i) =>
      iss.roles.forEach((role, k) => {
        if (!ISSUER_ROLES.includes(role)) {
          ctx.addIssue({
            code: 'custom',
            path: ['issuers', i, 'roles', k],
            message: `must be one of ${ISSUER_ROLES.join(', ')}: every token the issuer signs gets these roles (auditor and admin need static tokens)`,
          });
        }
      }),
    );
    file.issuers.forEach((iss, i) =>
      Object.keys(iss.groupRoles ?? {}).forEach((role) => {
        if (!GROUP_ROLES.includes(role)) {
          ctx.addIssue({
            code: 'custom',
            path: ['issuers', i, 'groupRoles', role],
            message: `must be one of ${GROUP_ROLES.join(', ')}: admin needs a static token`,
          });
        }
      }),
    );
  });
export type AccessPolicyFile = z.output<ReturnType<typeof buildAccessPolicyFileSchema>>;

