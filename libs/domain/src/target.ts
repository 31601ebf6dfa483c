import { z } from 'zod';
import { PrincipalType, TargetKind } from './cloud';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const guid = (what: string) => z.string().regex(GUID, `must be a GUID (${what})`);

/** ARM scopes: management group, subscription, resource group, or a resource below them. */
export const AZURE_SCOPE =
  /^\/(providers\/Microsoft\.Management\/managementGroups\/[\w.()-]{1,90}|subscriptions\/[0-9a-fA-F-]{36}(\/resourceGroups\/[-\w.()]{1,90}(\/providers\/[\w.]+\/[\w.-]+\/[^/]+(\/[\w.-]+\/[^/]+)*)?)?)$/;
/** A role definition GUID, or its full ARM id at tenant, subscription or management-group level. */
const AZURE_ROLE_DEFINITION =
  /^((\/subscriptions\/[0-9a-fA-F-]{36}|\/providers\/Microsoft\.Management\/managementGroups\/[\w.()-]{1,90})?\/providers\/Microsoft\.Authorization\/roleDefinitions\/)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Entra directory scopes: tenant-wide, an administrative unit, or one application object. */
const DIRECTORY_SCOPE = /^\/((administrativeUnits\/)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$/;

export const AWS_ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
export const AWS_USER_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:user\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
const AWS_ACTION = /^(\*|[a-z0-9-]{1,64}:[A-Za-z0-9*?]{1,128})$/;
const AWS_RESOURCE = /^(\*|arn:aws(-cn|-us-gov)?:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|\*)?:.{1,1800})$/;
const AWS_CONDITION_OPERATOR = /^(ForAllValues:|ForAnyValue:)?[A-Za-z]{3,40}(IfExists)?$/;

export const GCP_RESOURCE = /^(projects\/([a-z][-a-z0-9]{4,28}[a-z0-9]|\d{1,20})|folders\/\d{1,20}|organizations\/\d{1,20})$/;
export const GCP_ROLE = /^(roles\/[A-Za-z0-9_.]{1,100}|(projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]|organizations\/\d{1,20})\/roles\/[A-Za-z0-9_.]{3,64})$/;
/**
 * An account email as Google accepts it: ASCII only (Google accounts and groups have no
 * internationalised addresses), an RFC 5322 dot-atom local part and a DNS host name.
 */
const GCP_EMAIL = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}";
/** IAM member strings; every form is ASCII (`principal://` identifiers are printable ASCII too). */
export const GCP_MEMBER = new RegExp(
  `^((user|group|serviceAccount):${GCP_EMAIL}|serviceAccount:[a-z0-9.-]+\\.svc\\.id\\.goog\\[[\\w.-]+\\/[\\w.-]+\\]|domain:[a-z0-9.-]+\\.[a-z]{2,}|principal(Set)?:\\/\\/[\\x21-\\x7e]{1,1000})$`,
);
/** Conditions are not allowed on basic roles (cloud-apis.md C1). */
export const GCP_BASIC_ROLES = ['roles/owner', 'roles/editor', 'roles/viewer'];

/** `.` and `..` segments would be resolved by the HTTP client into another scope than the one the rules checked. */
const noDotSegments = (s: string) => !s.split('/').some((seg) => seg === '.' || seg === '..');
const DOT_SEGMENTS = 'must not contain "." or ".." path segments';

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

export const targetSchemas = {
  'azure.directory-role': z.strictObject({
    kind: z.literal('azure.directory-role'),
    roleDefinitionId: guid('Entra role definition id'),
    directoryScopeId: z.string().regex(DIRECTORY_SCOPE, 'must be "/", "/<app object id>" or "/administrativeUnits/<id>"').default('/'),
  }),
  'azure.resource-role': z.strictObject({
    kind: z.literal('azure.resource-role'),
    scope: z
      .string()
      .max(1024)
      .regex(AZURE_SCOPE, 'must be an ARM scope (management group, subscription, resource group or resource)')
      .refine(noDotSegments, DOT_SEGMENTS),
    roleDefinitionId: z
      .string()
      .max(512)
      .regex(AZURE_ROLE_DEFINITION, 'must be a role definition GUID or its ARM id')
      .refine(noDotSegments, DOT_SEGMENTS),
  }),
  'azure.group-membership': z.strictObject({
    kind: z.literal('azure.group-membership'),
    groupId: guid('Entra group object id'),
    access: z.enum(['member', 'owner']),
  }),
  'azure.app-role': z.strictObject({
    kind: z.literal('azure.app-role'),
    resourceServicePrincipalId: guid('service principal object id'),
    appRoleId: guid('app role id'),
  }),
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
  'gcp.iam-binding': z.strictObject({
    kind: z.literal('gcp.iam-binding'),
    resource: z.string().regex(GCP_RESOURCE, 'must be projects/<id>, folders/<number> or organizations/<number>'),
    role: z
      .string()
      .regex(GCP_ROLE, 'must be roles/<name> or a custom role projects/<id>/roles/<name>')
      .refine((r) => !GCP_BASIC_ROLES.includes(r), 'basic roles (owner, editor, viewer) cannot carry the expiry condition'),
  }),
} satisfies Record<TargetKind, z.ZodType>;

export type TargetOf<K extends TargetKind> = z.output<(typeof targetSchemas)[K]>;
export type Target = { [K in TargetKind]: TargetOf<K> }[TargetKind];

export const targetSchema = z.discriminatedUnion('kind', [
  targetSchemas['azure.directory-role'],
  targetSchemas['azure.resource-role'],
  targetSchemas['azure.group-membership'],
  targetSchemas['azure.app-role'],
  targetSchemas['aws.iam-policy'],
  targetSchemas['aws.assume-role'],
  targetSchemas['aws.sts-credentials'],
  targetSchemas['gcp.iam-binding'],
]);

interface PrincipalRule {
  types: readonly PrincipalType[];
  id: RegExp;
  idMessage: string;
}

const ENTRA_OBJECT: Pick<PrincipalRule, 'id' | 'idMessage'> = { id: GUID, idMessage: 'must be an Entra object id (GUID)' };
const AWS_PRINCIPAL = new RegExp(`${AWS_ROLE_ARN.source}|${AWS_USER_ARN.source}`);

/** Which principals each kind accepts, and the shape of their ids (design.md section 4). */
export const principalRules: Record<TargetKind, PrincipalRule> = {
  'azure.directory-role': { types: ['user', 'group', 'workload'], ...ENTRA_OBJECT },
  'azure.resource-role': { types: ['user', 'group', 'workload'], ...ENTRA_OBJECT },
  'azure.group-membership': { types: ['user', 'group'], ...ENTRA_OBJECT },
  'azure.app-role': { types: ['workload'], ...ENTRA_OBJECT },
  'aws.iam-policy': { types: ['user', 'workload'], id: AWS_PRINCIPAL, idMessage: 'must be an IAM role or user ARN' },
  'aws.assume-role': { types: ['user', 'workload'], id: AWS_PRINCIPAL, idMessage: 'must be an IAM role or user ARN' },
  'aws.sts-credentials': { types: ['user', 'workload'], id: /^[\x21-\x7e]{1,256}$/, idMessage: 'must be 1-256 printable ASCII characters' },
  'gcp.iam-binding': {
    types: ['user', 'group', 'workload'],
    id: GCP_MEMBER,
    idMessage: 'must be a member string (user:, group:, serviceAccount:, domain:, principal://); allUsers and allAuthenticatedUsers are refused',
  },
};
