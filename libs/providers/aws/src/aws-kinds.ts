import { z } from 'zod';
import { Target, defineTargetKind, matchEach, matchPatterns, rulePatterns, rulePrincipalFields } from '@jit/domain';

/**
 * The AWS kinds as the broker core sees them (request fields, principals, rule matchers,
 * enforcement): no SDK needed at import time. docs/architecture.md, "Target kinds".
 */

/** IAM role and user ARNs (the AWS kinds' principals, and the reconciliation list of the AWS options). */
export const AWS_ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
export const AWS_USER_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:user\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
const AWS_ACTION = /^(\*|[a-z0-9-]{1,64}:[A-Za-z0-9*?]{1,128})$/;
const AWS_RESOURCE = /^(\*|arn:aws(-cn|-us-gov)?:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|\*)?:.{1,1800})$/;
/** IAM Identity Center (sso-admin service-2.json: PermissionSetName, PermissionSetArn); Organizations' AccountId and OrganizationalUnitId. */
export const PERMISSION_SET_NAME = /^[\w+=,.@-]{1,32}$/;
export const PERMISSION_SET_ARN = /^arn:(aws|aws-us-gov|aws-cn):sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;
const ACCOUNT_ID = /^\d{12}$/;
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
/**
 * Accounts one `aws.permission-set` grant may cover, listed or in its organizational unit: each is
 * one asynchronous CreateAccountAssignment with its status polled, and all of them must settle
 * within one provider call (`JIT_PROVIDER_TIMEOUT`).
 */
export const PERMISSION_SET_MAX_ACCOUNTS = 100;
const AWS_CONDITION_OPERATOR = /^(ForAllValues:|ForAnyValue:)?[A-Za-z]{3,40}(IfExists)?$/;

const awsConditions = z
  .record(
    z.string().regex(AWS_CONDITION_OPERATOR, 'must be an IAM condition operator such as StringEquals'),
    z.record(z.string().min(1).max(256), z.union([z.string().max(1024), z.array(z.string().max(1024)).min(1).max(50)])),
  )
  .refine((c) => Object.keys(c).length <= 10, 'at most 10 condition operators')
  .refine(
    (c) => !Object.values(c).some((keys) => Object.keys(keys).some((k) => k.toLowerCase() === 'aws:currenttime')),
    'aws:CurrentTime is set by the broker from the grant window',
  );

export const awsTargetSchemas = {
  'aws.iam-policy': z.strictObject({
    kind: z.literal('aws.iam-policy'),
    actions: z.array(z.string().regex(AWS_ACTION, 'must be "service:Action" (wildcards allowed) or "*"')).min(1).max(100),
    resources: z.array(z.string().max(2048).regex(AWS_RESOURCE, 'must be an ARN or "*"')).min(1).max(100),
    conditions: awsConditions.optional(),
  }),
  'aws.assume-role': z.strictObject({
    kind: z.literal('aws.assume-role'),
    roleArn: z.string().regex(AWS_ROLE_ARN, 'must be an IAM role ARN'),
  }),
  'aws.sts-credentials': z.strictObject({
    kind: z.literal('aws.sts-credentials'),
    roleArn: z.string().regex(AWS_ROLE_ARN, 'must be an IAM role ARN'),
    sessionPolicy: z
      .record(z.string(), z.unknown())
      .refine((p) => JSON.stringify(p).length <= 2048, 'session policy exceeds 2,048 characters (STS limit)')
      .optional(),
  }),
  'aws.permission-set': z
    .strictObject({
      kind: z.literal('aws.permission-set'),
      permissionSet: z
        .string()
        .max(1224)
        .refine((v) => PERMISSION_SET_NAME.test(v) || PERMISSION_SET_ARN.test(v), 'must be a permission set name ([\\w+=,.@-], 1-32) or its ARN (arn:aws:sso:::permissionSet/ssoins-.../ps-...)'),
      permissionSetName: z.string().regex(PERMISSION_SET_NAME, 'must be a permission set name').optional().meta({ description: 'set by the broker: the name of the permission set, whichever way it was requested' }),
      accounts: z
        .array(z.string().regex(ACCOUNT_ID, 'must be a 12-digit AWS account id'))
        .min(1)
        .max(PERMISSION_SET_MAX_ACCOUNTS)
        .refine((a) => new Set(a).size === a.length, 'lists an account twice')
        .optional(),
      organizationalUnit: z.string().regex(OU_ID, 'must be an organizational unit id (ou-xxxx-xxxxxxxx)').optional(),
      accountOrganizationalUnits: z
        .array(z.string().regex(OU_ID, 'must be an organizational unit id'))
        .max(1_000)
        .optional()
        .meta({ description: 'set by the broker: every organizational unit above the accounts, so a deny entry on an OU also stops a request listing its accounts' }),
    })
    .refine((t) => t.accounts !== undefined || t.organizationalUnit !== undefined, { message: 'name the accounts (accounts) or an organizational unit (organizationalUnit)', path: ['accounts'] }),
};
export type AwsKind = keyof typeof awsTargetSchemas;
export type AwsTargetOf<K extends AwsKind> = z.output<(typeof awsTargetSchemas)[K]>;
export type AwsTarget = { [K in AwsKind]: AwsTargetOf<K> }[AwsKind];

/** A target of an AWS kind with its fields' types: what the registry parsed with the schemas above (the validator checks the kind). */
export function awsTarget(target: Target): AwsTarget {
  return target as AwsTarget;
}

const IAM_ENTITY = /^(arn:aws(?:-cn|-us-gov)?:iam::\d{12}:(?:role|user)\/)(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

/**
 * An IAM role or user ARN as the cloud addresses it: by name, unique per account regardless of
 * case and path. Matching on the path the requester wrote would let `role/ci-x/prod-admin`
 * pass for `role/ci-*` while the policy lands on `prod-admin`.
 */
export function canonicalIamArn(arn: string): string {
  const m = IAM_ENTITY.exec(arn);
  return (m ? m[1] + m[2] : arn).toLowerCase();
}

/** IAM roles and users are matched by name (see canonicalIamArn), so a pattern with a path could never match and, in a deny-list, would silently catch nothing. */
const iamArnPatterns = rulePatterns.refine(
  (list) => list.every((p) => !/:(role|user)\/.*\//.test(p)),
  'write IAM role and user ARNs without their path (arn:aws:iam::<account>:role/<name>): the broker addresses them by name',
);

/**
 * An IAM role may be assumed by a person (SSO) or a job, an IAM user be either: the broker cannot
 * check a declared type, so a rule may not rely on one. Restrict AWS principals by ARN instead.
 */
const awsPrincipalFields = {
  principalTypes: z.undefined({ error: 'AWS ARNs do not say whether a person or a workload uses them: restrict principals by ARN pattern instead' }).optional(),
};

const ARN_PRINCIPALS = {
  types: ['user', 'workload'],
  id: new RegExp(`${AWS_ROLE_ARN.source}|${AWS_USER_ARN.source}`),
  idMessage: 'must be an IAM role or user ARN',
} as const;

/**
 * An Identity Store user (by UserName, or by email when it is the UserName too) or group (by
 * DisplayName): printable, no surrounding space (identitystore service-2.json: UserName 1-128,
 * GroupDisplayName 1-1,024).
 */
const IDENTITY_STORE_NAME = /^(?=\S)[^\x00-\x1f\x7f]{1,1024}(?<=\S)$/u;

/**
 * The matcher of `aws.permission-set`: the permission set by name or ARN (the target carries both
 * once the broker has resolved it), and the accounts by id or by the organizational unit
 * requested. An OU pattern covers a request for that OU; account patterns cover each account
 * (an OU's accounts are listed in the target once resolved, so a deny entry on an account also
 * stops a request for its OU; and the OUs above the accounts too, so a deny entry on an OU stops a
 * request listing one of its accounts).
 */
function permissionSetMatches(
  m: { permissionSets: string[]; accounts: string[] },
  t: AwsTargetOf<'aws.permission-set'>,
  relation: 'covers' | 'touches',
): boolean {
  const names = [t.permissionSet, t.permissionSetName].filter((n): n is string => n !== undefined);
  const set = relation === 'covers' ? names.some((n) => matchPatterns(m.permissionSets, n, true, 'covers')) : names.some((n) => matchPatterns(m.permissionSets, n, true, 'touches'));
  if (!set) return false;
  const byOu = t.organizationalUnit !== undefined && matchPatterns(m.accounts, t.organizationalUnit, true, relation);
  const accounts = t.accounts ?? [];
  if (relation === 'covers') return byOu || (accounts.length > 0 && matchEach(m.accounts, accounts, false, 'covers'));
  // The deny-list also sees every OU above the accounts (resolved by the broker), however they were requested.
  return byOu || matchEach(m.accounts, accounts, false, 'touches') || matchEach(m.accounts, t.accountOrganizationalUnits ?? [], true, 'touches');
}

export const awsKinds = [
  defineTargetKind({
    kind: 'aws.iam-policy',
    cloud: 'aws',
    target: awsTargetSchemas['aws.iam-policy'],
    principals: ARN_PRINCIPALS,
    rules: {
      fields: { actions: rulePatterns, resources: rulePatterns, ...awsPrincipalFields, principals: iamArnPatterns.optional() },
      canonicalPrincipal: canonicalIamArn,
      matches: (m, t, relation) => matchEach(m.actions, t.actions, true, relation) && matchEach(m.resources, t.resources, false, relation),
    },
  }),
  defineTargetKind({
    kind: 'aws.assume-role',
    cloud: 'aws',
    target: awsTargetSchemas['aws.assume-role'],
    principals: ARN_PRINCIPALS,
    rules: {
      fields: { roleArns: iamArnPatterns, ...awsPrincipalFields, principals: iamArnPatterns.optional() },
      canonicalPrincipal: canonicalIamArn,
      matches: (m, t, relation) => matchPatterns(m.roleArns, canonicalIamArn(t.roleArn), true, relation),
    },
  }),
  defineTargetKind({
    kind: 'aws.sts-credentials',
    cloud: 'aws',
    target: awsTargetSchemas['aws.sts-credentials'],
    // A session name, not an IAM entity: the credentials go to whoever holds them.
    principals: { types: ['user', 'workload'], id: /^[\x21-\x7e]{1,256}$/, idMessage: 'must be 1-256 printable ASCII characters' },
    rules: {
      fields: { roleArns: iamArnPatterns, ...awsPrincipalFields, principals: rulePatterns.optional() },
      matches: (m, t, relation) => matchPatterns(m.roleArns, canonicalIamArn(t.roleArn), true, relation),
    },
    vendsCredentials: true,
    approvalAlternative: 'aws.assume-role',
  }),
  defineTargetKind({
    kind: 'aws.permission-set',
    cloud: 'aws',
    target: awsTargetSchemas['aws.permission-set'],
    principals: {
      types: ['user', 'group'],
      id: IDENTITY_STORE_NAME,
      idMessage: 'must be an Identity Store user name (user) or group display name (group), 1-1,024 printable characters',
    },
    rules: {
      fields: { permissionSets: rulePatterns, accounts: rulePatterns, ...rulePrincipalFields },
      matches: permissionSetMatches,
    },
    // Identity Center assignments have no expiry: the sweeper deletes them (docs/providers/aws.md, "Identity Center").
    enforcement: 'sweeper',
  }),
];
