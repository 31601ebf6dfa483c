import { AwsSimError } from './aws-sim.error';
import { PolicyDocument, PolicyStatement, asList } from './policy.types';

const VERSIONS = ['2012-10-17', '2008-10-17'];
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition', 'Principal', 'NotPrincipal']);
const BASE_OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
]);
const ACTION = /^(\*|[a-zA-Z0-9-]+:[A-Za-z0-9*?]+)$/;

/** Strips `ForAllValues:` / `ForAnyValue:` and `IfExists`; undefined when the operator is unknown. */
export function baseOperator(operator: string): string | undefined {
  const base = operator.replace(/^(ForAllValues|ForAnyValue):/, '').replace(/IfExists$/, '');
  return BASE_OPERATORS.has(base) ? base : undefined;
}

/** ISO-8601 or epoch seconds, as the Date operators accept. */
export function parsePolicyDate(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const malformed = (message: string) => AwsSimError.malformedPolicy(message);

function isStringOrList(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0;
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v.length > 0);
}

type PolicyKind = 'identity' | 'trust';

function checkStatement(s: unknown, sids: Set<string>, kind: PolicyKind): PolicyStatement {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw malformed('Syntax errors in policy.');
  const st = s as Record<string, unknown>;
  for (const key of Object.keys(st)) if (!STATEMENT_KEYS.has(key)) throw malformed('Syntax errors in policy.');
  if (kind === 'identity' && ('Principal' in st || 'NotPrincipal' in st)) throw malformed('Policy document should not specify a principal.');
  if (kind === 'trust') checkPrincipal(st);
  if (st.Sid !== undefined) {
    if (typeof st.Sid !== 'string' || !/^[0-9A-Za-z]*$/.test(st.Sid)) {
      throw malformed('Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*');
    }
    if (st.Sid && sids.has(st.Sid)) throw malformed('Statement IDs (SID) in a single policy must be unique.');
    sids.add(st.Sid);
  }
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed('Syntax errors in policy.');
  if (('Action' in st) === ('NotAction' in st)) throw malformed('Policy statement must contain actions.');
  const actions = st.Action ?? st.NotAction;
  if (!isStringOrList(actions)) throw malformed('Syntax errors in policy.');
  for (const a of asList(actions as string[])) {
    if (!ACTION.test(a)) throw malformed('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
  }
  if (kind === 'trust') {
    // A role trust policy names no resource: the role it is attached to is the resource.
    if ('Resource' in st || 'NotResource' in st) throw malformed('Has prohibited field Resource');
    if (st.Condition !== undefined) checkCondition(st.Condition);
    return st as unknown as PolicyStatement;
  }
  if (('Resource' in st) === ('NotResource' in st)) throw malformed('Policy statement must contain resources.');
  const resources = st.Resource ?? st.NotResource;
  if (!isStringOrList(resources)) throw malformed('Syntax errors in policy.');
  for (const r of asList(resources as string[])) {
    if (r !== '*' && !/^arn:[^:]*:[^:]*:[^:]*:[^:]*:.+$/.test(r)) throw malformed(`Resource ${r} must be in ARN format or "*".`);
  }
  if (st.Condition !== undefined) checkCondition(st.Condition);
  return st as unknown as PolicyStatement;
}

const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);

/** `"*"` or `{ "AWS" | "Service" | "Federated": value or list }`, as role trust policies require. */
function checkPrincipal(st: Record<string, unknown>): void {
  if (('Principal' in st) === ('NotPrincipal' in st)) throw malformed('Missing required field Principal');
  const principal = st.Principal ?? st.NotPrincipal;
  if (principal === '*') return;
  if (typeof principal !== 'object' || principal === null || Array.isArray(principal)) throw malformed('Invalid principal in policy');
  for (const [type, value] of Object.entries(principal)) {
    if (!PRINCIPAL_TYPES.has(type) || !isStringOrList(value)) throw malformed('Invalid principal in policy');
    if (type !== 'AWS') continue;
    for (const v of asList(value as string[])) {
      if (v !== '*' && !/^\d{12}$/.test(v) && !/^arn:aws[\w-]*:(iam|sts)::\d{12}:\S+$/.test(v)) throw malformed(`Invalid principal in policy: "AWS":"${v}"`);
    }
  }
}

function checkCondition(condition: unknown): void {
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) throw malformed('Syntax errors in policy.');
  for (const [operator, block] of Object.entries(condition)) {
    const base = baseOperator(operator);
    if (!base) throw malformed(`Invalid Condition type : ${operator}.`);
    if (typeof block !== 'object' || block === null || Array.isArray(block)) throw malformed('Syntax errors in policy.');
    for (const [key, values] of Object.entries(block)) {
      const list = typeof values === 'boolean' || typeof values === 'number' ? [String(values)] : values;
      if (!key || !isStringOrList(list)) throw malformed('Syntax errors in policy.');
      if (base.startsWith('Date')) {
        for (const v of asList(list as string[])) {
          if (parsePolicyDate(v) === undefined) throw malformed(`The policy failed to parse the date ${v} for condition key ${key}.`);
        }
      }
    }
  }
}

/** Parses an identity-based policy and rejects what IAM rejects with `MalformedPolicyDocument`. */
export function parseIdentityPolicy(text: string): PolicyDocument {
  return parsePolicy(text, 'identity');
}

/** Parses a role trust policy (`AssumeRolePolicyDocument`): every statement names a `Principal` and no `Resource`. */
export function parseTrustPolicy(text: string): PolicyDocument {
  return parsePolicy(text, 'trust');
}

function parsePolicy(text: string, kind: PolicyKind): PolicyDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed('Syntax errors in policy.');
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) if (!['Version', 'Id', 'Statement'].includes(key)) throw malformed('Syntax errors in policy.');
  if (doc.Version !== undefined && !VERSIONS.includes(doc.Version as string)) throw malformed('The policy failed legacy parsing');
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? [] : [doc.Statement];
  if (statements.length === 0) throw malformed('Syntax errors in policy.');
  const sids = new Set<string>();
  return { Version: doc.Version as string | undefined, Statement: statements.map((s) => checkStatement(s, sids, kind)) };
}

/** IAM counts policy size without whitespace (cloud-apis.md B1). */
export function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}
