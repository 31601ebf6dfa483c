import { ApprovalStep, FieldIssue, GrantRequest, Principal, Target, TargetKinds, formatIsoDuration, globCovers } from '@jit/domain';
import { AccessPolicyFile, AccessRule, DenyEntry, RequesterMatcher, TextRequirement } from './access-policy.schema';
import { matchTarget } from './target.matcher';

/** Who asks, as authentication established it. */
export interface Requester {
  subject: string;
  groups?: readonly string[];
  claims?: Readonly<Record<string, unknown>>;
  issuer?: string;
}

export type ApprovalRequirement =
  | { mode: 'auto' }
  | { mode: 'approvals'; required: number; groups: string[]; steps: ApprovalStep[]; timeoutSeconds: number }
  | { mode: 'break_glass' };

export type PolicyDecision =
  | { effect: 'allow'; rule: string; approval: ApprovalRequirement; policyVersion: string }
  | {
      effect: 'deny';
      /** The rule or deny-list entry that decided, or null when no rule matched at all. */
      rule: string | null;
      code: 'deny_list' | 'no_matching_rule' | 'rule_conditions';
      reason: string;
      violations: FieldIssue[];
      policyVersion: string;
    };

export const BREAK_GLASS_RULE = 'break-glass';

/** The rules in force: one immutable snapshot per load, so a reload never changes a decision half-way. */
export class AccessPolicy {
  constructor(
    readonly file: AccessPolicyFile,
    /** SHA-256 of the file's text, recorded with every decision. */
    readonly version: string,
    readonly loadedAt: Date,
    readonly source: string,
    /** The file as written, for the audit log. */
    readonly text: string,
    /** The kinds the file was checked against, whose descriptors match its targets. */
    readonly kinds: TargetKinds,
  ) {}

  /** Groups from the token plus the groups this file lists the subject in. */
  groupsOf(who: Requester): Set<string> {
    const groups = new Set(who.groups ?? []);
    for (const [group, members] of Object.entries(this.file.groups)) if (members.includes(who.subject)) groups.add(group);
    return groups;
  }

  /** The longest grant the named rule (or break-glass) allows, in seconds; undefined for a name this file does not have. */
  maxDurationOf(rule: string): number | undefined {
    if (rule === BREAK_GLASS_RULE) return this.file.breakGlass?.maxDuration;
    return this.file.rules.find((r) => r.name === rule)?.maxDuration;
  }

  isBreakGlass(who: Requester): boolean {
    return this.file.breakGlass?.subjects.includes(who.subject) ?? false;
  }

  /**
   * The deny-list first; then break-glass accounts; then the rules in file order, the first
   * whose requester, target and conditions all hold deciding. A rule whose requester and target
   * match but whose conditions fail (duration, justification, ticket) is named in the denial.
   */
  evaluate(who: Requester, request: GrantRequest): PolicyDecision {
    const deny = (rule: string | null, code: 'deny_list' | 'no_matching_rule' | 'rule_conditions', reason: string, violations: FieldIssue[] = []) =>
      ({ effect: 'deny', rule, code, reason, violations, policyVersion: this.version }) as const;

    const denied = this.denyListHit(request.principal, request.target);
    if (denied) return deny(`deny-list:${denied.name}`, 'deny_list', denied.reason ?? `the target is on the deny-list (${denied.name}); no rule can grant it`);

    if (this.isBreakGlass(who)) {
      const bg = this.file.breakGlass!;
      const violations: FieldIssue[] = [];
      if (request.durationSeconds > bg.maxDuration) {
        violations.push({ field: 'duration', message: `break-glass grants last at most ${formatIsoDuration(bg.maxDuration)}` });
      }
      if (!request.justification) violations.push({ field: 'justification', message: 'break-glass use needs a justification' });
      if (violations.length) return deny(BREAK_GLASS_RULE, 'rule_conditions', describe(BREAK_GLASS_RULE, violations), violations);
      return { effect: 'allow', rule: BREAK_GLASS_RULE, approval: { mode: 'break_glass' }, policyVersion: this.version };
    }

    const groups = this.groupsOf(who);
    let nearest: { rule: AccessRule; violations: FieldIssue[] } | null = null;
    for (const rule of this.file.rules) {
      if (!rule.requesters.some((m) => requesterMatches(m, who, groups))) continue;
      if (!rule.targets.some((m) => matchTarget(this.kinds, m, request.principal, request.target, 'covers'))) continue;
      const violations = conditionViolations(rule, request);
      if (violations.length === 0) {
        const approval = this.approvalOf(rule);
        const kind = this.kinds.get(request.target.kind);
        if (approval.mode === 'approvals' && kind.vendsCredentials) {
          // Credentials are returned once, in the response that provisions; an approver's response must never carry them.
          const instead = kind.approvalAlternative ? `; request ${kind.approvalAlternative} instead` : '';
          return deny(
            rule.name,
            'rule_conditions',
            `rule "${rule.name}" needs approval, but ${request.target.kind} returns credentials to the caller at once${instead}`,
            [{ field: 'target.kind', message: 'cannot wait for approval' }],
          );
        }
        return { effect: 'allow', rule: rule.name, approval, policyVersion: this.version };
      }
      nearest ??= { rule, violations };
    }
    if (nearest) return deny(nearest.rule.name, 'rule_conditions', describe(nearest.rule.name, nearest.violations), nearest.violations);
    return deny(
      null,
      'no_matching_rule',
      `no access rule lets ${who.subject} request ${request.target.kind} for ${request.principal.type} ${request.principal.id}`,
    );
  }

  /** The first deny-list entry the target could touch; checked at request and again at the final approval. */
  denyListHit(principal: Principal, target: Target): DenyEntry | null {
    return this.file.denyList.find((entry) => entry.targets.some((m) => matchTarget(this.kinds, m, principal, target, 'touches'))) ?? null;
  }

  private approvalOf(rule: AccessRule): ApprovalRequirement {
    if (rule.approval === 'auto') return { mode: 'auto' };
    const steps = ('allOf' in rule.approval ? rule.approval.allOf : [rule.approval]).map((s) => ({ required: s.approvals, groups: [...s.from] }));
    return {
      mode: 'approvals',
      required: steps.reduce((n, s) => n + s.required, 0),
      groups: [...new Set(steps.flatMap((s) => s.groups))],
      steps,
      timeoutSeconds: rule.approval.timeout ?? this.file.approvalTimeout,
    };
  }
}

function describe(rule: string, violations: FieldIssue[]): string {
  return `rule "${rule}" matches but ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`;
}

/** Whether `who` (with `groups`, theirs from the token and the file) is one a rule's requester entry admits. */
export function requesterMatches(m: RequesterMatcher, who: Requester, groups: ReadonlySet<string>): boolean {
  if (m.subjects && !m.subjects.some((p) => globCovers(p, who.subject))) return false;
  if (m.groups && !m.groups.some((g) => groups.has(g))) return false;
  if (m.issuer && who.issuer !== m.issuer) return false;
  if (m.claims) {
    for (const [claim, wanted] of Object.entries(m.claims)) {
      const values = claimStrings(who.claims?.[claim]);
      const accepted = Array.isArray(wanted) ? wanted : [wanted];
      if (!values.some((v) => accepted.some((p) => globCovers(p, v)))) return false;
    }
  }
  return true;
}

function claimStrings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean').map(String);
}

function textViolation(field: 'justification' | 'ticket', req: TextRequirement | undefined, value: string | null): FieldIssue | null {
  if (!req) return null;
  if (!value) return req.required ? { field, message: `is required${req.description ? ` (${req.description})` : ''}` } : null;
  if (req.pattern && !req.pattern.test(value)) {
    return { field, message: `must match ${req.description ?? req.pattern.source}` };
  }
  return null;
}

function conditionViolations(rule: AccessRule, request: GrantRequest): FieldIssue[] {
  const out: FieldIssue[] = [];
  if (request.durationSeconds > rule.maxDuration) {
    out.push({ field: 'duration', message: `is longer than the rule's maximum ${formatIsoDuration(rule.maxDuration)}` });
  }
  const j = textViolation('justification', rule.justification, request.justification);
  if (j) out.push(j);
  const t = textViolation('ticket', rule.ticket, request.ticket);
  if (t) out.push(t);
  return out;
}
