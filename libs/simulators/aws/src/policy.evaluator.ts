import { baseOperator, parsePolicyDate } from './policy-document.validator';
import { PolicyDocument, PolicyStatement, RequestContext, asList } from './policy.types';

export type Decision = 'allow' | 'deny' | 'implicit-deny';

/** IAM wildcards: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function compare(base: string, actual: string, expected: string): boolean {
  switch (base) {
    case 'StringEquals':
    case 'ArnEquals':
      return actual === expected;
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return actual !== expected;
    case 'StringEqualsIgnoreCase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'StringNotEqualsIgnoreCase':
      return actual.toLowerCase() !== expected.toLowerCase();
    case 'StringLike':
    case 'ArnLike':
      return wildcardMatch(expected, actual, false);
    case 'StringNotLike':
    case 'ArnNotLike':
      return !wildcardMatch(expected, actual, false);
    case 'Bool':
      return actual.toLowerCase() === expected.toLowerCase();
  }
  if (base.startsWith('Date') || base.startsWith('Numeric')) {
    const a = base.startsWith('Date') ? parsePolicyDate(actual) : Number(actual);
    const e = base.startsWith('Date') ? parsePolicyDate(expected) : Number(expected);
    if (a === undefined || e === undefined || Number.isNaN(a) || Number.isNaN(e)) return false;
    const op = base.replace(/^(Date|Numeric)/, '');
    return op === 'Equals' ? a === e : op === 'NotEquals' ? a !== e : op === 'LessThan' ? a < e
      : op === 'LessThanEquals' ? a <= e : op === 'GreaterThan' ? a > e : a >= e;
  }
  return false; // IpAddress, BinaryEquals: the simulator has no such context, so never matches
}

const NEGATED = /Not(Equals|Like|IpAddress)/;

/** All operators AND, all keys AND, the values of one key OR (negated operators: NOR). */
function conditionHolds(condition: PolicyStatement['Condition'], context: RequestContext): boolean {
  for (const [operator, block] of Object.entries(condition ?? {})) {
    const base = baseOperator(operator)!;
    for (const [key, values] of Object.entries(block)) {
      const actual = context[key.toLowerCase()];
      const expected = asList(values).map(String);
      if (base === 'Null') {
        if ((actual === undefined) !== (expected[0] === 'true')) return false;
        continue;
      }
      if (actual === undefined) {
        if (operator.endsWith('IfExists') || NEGATED.test(base)) continue;
        return false;
      }
      const ok = NEGATED.test(base) ? expected.every((e) => compare(base, actual, e)) : expected.some((e) => compare(base, actual, e));
      if (!ok) return false;
    }
  }
  return true;
}

function statementApplies(s: PolicyStatement, action: string, resource: string, context: RequestContext): boolean {
  const actionMatch = asList(s.Action ?? s.NotAction).some((p) => wildcardMatch(p, action, true));
  if (s.Action ? !actionMatch : actionMatch) return false;
  const resourceMatch = asList(s.Resource ?? s.NotResource).some((p) => wildcardMatch(p, resource, false));
  if (s.Resource ? !resourceMatch : resourceMatch) return false;
  return conditionHolds(s.Condition, context);
}

/** IAM's evaluation within one set of policies: an explicit Deny wins, then any Allow, else implicit deny. */
export function evaluate(policies: PolicyDocument[], action: string, resource: string, context: RequestContext): Decision {
  let allowed = false;
  for (const policy of policies) {
    for (const s of policy.Statement) {
      if (!statementApplies(s, action, resource, context)) continue;
      if (s.Effect === 'Deny') return 'deny';
      allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/**
 * Who is asking, as a role trust policy's `Principal` can name it: the caller's ARNs (a session
 * also counts as its role) and its account, which `"123456789012"` and `arn:…:root` both name.
 */
export interface TrustCaller {
  arns: string[];
  account: string;
}

function principalMatches(principal: PolicyStatement['Principal'], caller: TrustCaller): boolean {
  if (principal === undefined) return false;
  if (principal === '*') return true;
  return asList(principal.AWS).some((p) => {
    if (p === '*') return true;
    if (/^\d{12}$/.test(p)) return p === caller.account;
    const root = /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(p);
    if (root) return root[1] === caller.account;
    return caller.arns.includes(p);
  });
}

/** A role trust policy's verdict on `action` (`sts:AssumeRole`, `sts:SetSourceIdentity`) for this caller. */
export function evaluateTrust(policy: PolicyDocument, caller: TrustCaller, action: string, context: RequestContext): Decision {
  let allowed = false;
  for (const s of policy.Statement) {
    const named = s.NotPrincipal !== undefined ? !principalMatches(s.NotPrincipal, caller) : principalMatches(s.Principal, caller);
    const actionMatch = asList(s.Action ?? s.NotAction).some((p) => wildcardMatch(p, action, true));
    if (!named || (s.Action ? !actionMatch : actionMatch) || !conditionHolds(s.Condition, context)) continue;
    if (s.Effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}
