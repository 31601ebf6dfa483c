import { readFileSync } from 'node:fs';
import { Cron } from 'croner';
import { z } from 'zod';
import { parseYamlWithSchema } from '@jit/config';
import { CLOUDS, STANDING_PRINCIPAL_KINDS, parseIsoDurationSeconds } from '@jit/domain';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const GROUP = /^[A-Za-z0-9][\w.:-]{0,79}$/;

/** A positive ISO-8601 duration (days, hours, ...; no months or years), in seconds. */
const duration = z.string().transform((v, ctx) => {
  const s = parseIsoDurationSeconds(v);
  if (s === undefined || s <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a positive ISO-8601 duration such as P14D (no months or years)' });
    return z.NEVER;
  }
  return s;
});

const globs = z.array(z.string().min(1).max(512)).min(1).max(100);

/** A cron expression (5 or 6 fields, croner's syntax), checked by computing its next run. */
const cron = z
  .string()
  .max(200)
  .refine((v) => {
    try {
      return new Cron(v, { paused: true, timezone: 'UTC' }).nextRun() !== null;
    } catch {
      return false;
    }
  }, 'must be a cron expression with a next run, such as "0 9 1 1,4,7,10 *" (quarterly, 09:00 UTC)');

export const reviewDefinitionSchema = z
  .strictObject({
    name: z.string().regex(NAME, 'must be 1-63 lower-case letters, digits or "-", starting with a letter or digit'),
    description: z.string().max(500).optional(),
    /** When the scheduler starts one (UTC); absent: started only by the API. */
    schedule: cron.optional(),
    /** How long reviewers have, from the start. */
    duration,
    /** The period usage through the broker is counted over, back from the start. */
    usagePeriod: duration.default(90 * 86400),
    scope: z
      .strictObject({
        standing: z
          .strictObject({
            clouds: z.array(z.enum(CLOUDS)).min(1).optional(),
            /** Globs on the finding's scope. */
            scopes: globs.optional(),
            /** Globs on the access's name (role or policy). */
            access: globs.optional(),
            principalKinds: z.array(z.enum(STANDING_PRINCIPAL_KINDS)).min(1).optional(),
            human: z.boolean().optional(),
            /** Only what discovery judged privileged (default) or every open finding. */
            privilegedOnly: z.boolean().default(true),
          })
          .optional(),
        eligibility: z
          .strictObject({
            /** Globs on rule names. */
            rules: globs.optional(),
            /** Globs on target kinds: a rule is in scope when one of its targets' kinds matches. */
            kinds: globs.optional(),
            clouds: z.array(z.enum(CLOUDS)).min(1).optional(),
          })
          .optional(),
      })
      .refine((s) => s.standing || s.eligibility, 'name standing, eligibility or both'),
    reviewers: z
      .strictObject({
        /** Groups that review every item (and the only reviewers of standing assignments). */
        groups: z.array(z.string().regex(GROUP, 'must be a group name')).min(1).optional(),
        /** Eligibility items are also reviewed by their rule's approver groups (default true). */
        ruleApprovers: z.boolean().default(true),
      })
      .default({ ruleApprovers: true }),
    /** What an item nobody decided becomes when the campaign closes. */
    defaultDecision: z.enum(['keep', 'remove']).default('keep'),
    /** One reminder this long before the end (to the reviewers, through the webhooks). */
    remindBefore: duration.default(3 * 86400),
    /** At the end, undecided items are escalated: these groups may then decide too, and the webhooks hear of each. */
    escalation: z.strictObject({ groups: z.array(z.string().regex(GROUP, 'must be a group name')).min(1) }).optional(),
  })
  .superRefine((d, ctx) => {
    if (d.remindBefore >= d.duration) ctx.addIssue({ code: 'custom', path: ['remindBefore'], message: 'must be shorter than duration' });
    if (d.scope.standing && !d.reviewers.groups) {
      ctx.addIssue({ code: 'custom', path: ['reviewers', 'groups'], message: 'standing assignments need reviewer groups (they have no rule approvers)' });
    }
    if (d.scope.eligibility && !d.reviewers.groups && !d.reviewers.ruleApprovers) {
      ctx.addIssue({ code: 'custom', path: ['reviewers'], message: 'name groups or keep ruleApprovers' });
    }
  });

export type ReviewDefinition = z.output<typeof reviewDefinitionSchema>;
export type ReviewDefinitionInput = z.input<typeof reviewDefinitionSchema>;

export const reviewsFileSchema = z
  .strictObject({
    version: z.literal(1),
    campaigns: z.array(reviewDefinitionSchema).default([]),
  })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.campaigns.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['campaigns', i, 'name'], message: `campaign "${c.name}" is defined twice` });
      seen.add(c.name);
    });
  });

/** Reads `JIT_REVIEWS_FILE`; every error names its line and field (a bad file stops the start). */
export function loadReviewsFile(path: string): ReviewDefinition[] {
  return parseYamlWithSchema(readFileSync(path, 'utf8'), reviewsFileSchema, path).campaigns;
}

export function parseReviewsText(text: string, source: string): ReviewDefinition[] {
  return parseYamlWithSchema(text, reviewsFileSchema, source).campaigns;
}

/** The next time a definition's schedule fires after `after` (UTC), or null when it has none. */
export function nextScheduled(definition: ReviewDefinition, after: Date): Date | null {
  if (!definition.schedule) return null;
  return new Cron(definition.schedule, { paused: true, timezone: 'UTC' }).nextRun(after);
}

/** The last time a schedule fired at or before `at` and after `since`: the scheduler's due start, if any. */
export function dueScheduled(definition: ReviewDefinition, since: Date, at: Date): Date | null {
  const next = nextScheduled(definition, since);
  return next && next.getTime() <= at.getTime() ? next : null;
}
