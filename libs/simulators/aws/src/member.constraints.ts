import { AwsSimError } from './aws-sim.error';

/** A request member's constraint, copied from the botocore shape (`min`, `max`, `pattern`). */
export interface MemberRule {
  min?: number;
  max?: number;
  /** The model's pattern; AWS matches it against the whole value. */
  pattern?: RegExp;
  required?: boolean;
  integer?: boolean;
}

const NAME = /^[\w+=,.@-]+$/;
const POLICY_TEXT = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;

/** From iam/2010-05-08/service-2.json (checked against the model by the wire-format contract test). */
export const IAM_RULES = {
  RoleName: { min: 1, max: 64, pattern: NAME, required: true },
  UserName: { min: 1, max: 128, pattern: NAME, required: true },
  PolicyName: { min: 1, max: 128, pattern: NAME, required: true },
  PolicyDocument: { min: 1, max: 131072, pattern: POLICY_TEXT, required: true },
  Marker: { min: 1, max: 320, pattern: /^[\u0020-\u00FF]+$/ },
  MaxItems: { min: 1, max: 1000, integer: true },
  Path: { min: 1, max: 512, pattern: /^(?:\u002F|\u002F[\u0021-\u007E]+\u002F)$/ },
  MaxSessionDuration: { min: 3600, max: 43200, integer: true },
  GroupName: { min: 1, max: 128, pattern: NAME, required: true },
  PolicyArn: { min: 20, max: 2048, required: true },
  /** `policyPathType`: managed policy paths. */
  PolicyPath: { min: 1, max: 512, pattern: /^(?:(?:\/[A-Za-z0-9.,+@=_-]+)*)\/$/ },
  PolicyDescription: { max: 1000 },
  VersionId: { pattern: /^v[1-9][0-9]*(?:\.[A-Za-z0-9-]*)?$/, required: true },
  Arn: { min: 20, max: 2048, required: true },
  JobId: { min: 36, max: 36, required: true },
} satisfies Record<string, MemberRule>;

/** An enum member: the service's message lists the allowed values. */
export function enumMember(params: Record<string, string>, name: string, values: readonly string[]): string | undefined {
  const value = params[name];
  if (value !== undefined && !values.includes(value)) {
    throw AwsSimError.validation(
      `1 validation error detected: Value '${value}' at '${wireName(name)}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`,
    );
  }
  return value;
}

/** A `Name.member.N` list member's values in order (awsQuery lists). */
export function listMember(params: Record<string, string>, name: string): string[] {
  return Object.entries(params)
    .map(([k, v]) => [new RegExp(`^${name}\\.member\\.(\\d+)$`).exec(k)?.[1], v] as const)
    .filter((e): e is readonly [string, string] => e[0] !== undefined)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, v]) => v);
}

/** From sts/2011-06-15/service-2.json. */
export const STS_RULES = {
  RoleArn: { min: 20, max: 2048, required: true, pattern: /^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u },
  RoleSessionName: { min: 2, max: 64, pattern: /^[\w+=,.@-]*$/, required: true },
  /** The plaintext limit (the model's `sessionPolicyDocumentType`); the packed limit is `PACKED_POLICY_LIMIT_BYTES`. */
  Policy: { min: 1, max: 2048, pattern: POLICY_TEXT },
  DurationSeconds: { min: 900, max: 43200, integer: true },
  SourceIdentity: { min: 2, max: 64, pattern: /^[\w+=,.@-]*$/ },
  ExternalId: { min: 2, max: 1224, pattern: /^[\w+=,.@:/-]*$/ },
} satisfies Record<string, MemberRule>;

/** `roleName` for `RoleName`: the service names members in camel case in its validation messages. */
function wireName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

/** Returns the member's value, or throws the `ValidationError` the service answers with. */
export function member(params: Record<string, string>, name: string, rule: MemberRule): string | undefined {
  const value = params[name];
  const at = `at '${wireName(name)}' failed to satisfy constraint`;
  if (value === undefined) {
    if (rule.required) throw AwsSimError.validation(`1 validation error detected: Value null ${at}: Member must not be null`);
    return undefined;
  }
  if (rule.integer) {
    const n = Number(value);
    if (!/^-?\d+$/.test(value)) throw AwsSimError.validation(`1 validation error detected: Value '${value}' ${at}: Member must be an integer`);
    if (rule.min !== undefined && n < rule.min) {
      throw AwsSimError.validation(`1 validation error detected: Value '${value}' ${at}: Member must have value greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && n > rule.max) {
      throw AwsSimError.validation(`1 validation error detected: Value '${value}' ${at}: Member must have value less than or equal to ${rule.max}`);
    }
    return value;
  }
  const length = [...value].length;
  if (rule.min !== undefined && length < rule.min) {
    throw AwsSimError.validation(`1 validation error detected: Value '${value}' ${at}: Member must have length greater than or equal to ${rule.min}`);
  }
  if (rule.max !== undefined && length > rule.max) {
    throw AwsSimError.validation(`1 validation error detected: Value ${at}: Member must have length less than or equal to ${rule.max}`);
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    throw AwsSimError.validation(`1 validation error detected: Value '${value}' ${at}: Member must satisfy regular expression pattern: ${rule.pattern.source}`);
  }
  return value;
}

export function required(params: Record<string, string>, name: string, rule: MemberRule): string {
  return member(params, name, { ...rule, required: true })!;
}
