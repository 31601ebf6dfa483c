import { z } from 'zod';
import { PrincipalType, defineTargetKind, matchPatterns, rulePatterns, rulePrincipalFields } from '@jit/domain';

/**
 * The GCP kind as the broker core sees it (request fields, principals, rule matcher,
 * enforcement): no SDK needed at import time. docs/architecture.md, "Target kinds".
 */

/** A project (by id or number), folder or organization: gcp.iam-binding's resource, and the reconciliation list of the GCP options. */
export const GCP_RESOURCE = /^(projects\/([a-z][-a-z0-9]{4,28}[a-z0-9]|\d{1,20})|folders\/\d{1,20}|organizations\/\d{1,20})$/;
export const GCP_ROLE = /^(roles\/[A-Za-z0-9_.]{1,100}|(projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]|organizations\/\d{1,20})\/roles\/[A-Za-z0-9_.]{3,64})$/;
/**
 * An account email as Google accepts it: ASCII only (Google accounts and groups have no
 * internationalised addresses), an RFC 5322 dot-atom local part and a DNS host name.
 */
export const GCP_EMAIL = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}";
/** IAM member strings; every form is ASCII (`principal://` identifiers are printable ASCII too). */
export const GCP_MEMBER = new RegExp(
  `^((user|group|serviceAccount):${GCP_EMAIL}|serviceAccount:[a-z0-9.-]+\\.svc\\.id\\.goog\\[[\\w.-]+\\/[\\w.-]+\\]|domain:[a-z0-9.-]+\\.[a-z]{2,}|principal(Set)?:\\/\\/[\\x21-\\x7e]{1,1000})$`,
);
/** Conditions are not allowed on basic roles (cloud-apis.md C1). */
export const GCP_BASIC_ROLES = ['roles/owner', 'roles/editor', 'roles/viewer'];

/** A Google group's email (gcp.group-membership's `group`): one address, written as Google would accept it. */
export const GCP_GROUP_EMAIL = new RegExp(`^${GCP_EMAIL}$`);
/**
 * The members gcp.group-membership accepts: a user, a service account or a group, by email with
 * the IAM prefix that fixes its type. Cloud Identity enforces a membership's expiry for these three
 * (`MembershipRole.expiryDetail`); a member that is a group passes the expiry down to its members.
 */
export const GCP_GROUP_MEMBER = new RegExp(`^(user|serviceAccount|group):${GCP_EMAIL}$`);

export const gcpTargetSchemas = {
  'gcp.iam-binding': z.strictObject({
    kind: z.literal('gcp.iam-binding'),
    resource: z.string().regex(GCP_RESOURCE, 'must be projects/<id>, folders/<number> or organizations/<number>'),
    role: z
      .string()
      .regex(GCP_ROLE, 'must be roles/<name> or a custom role projects/<id>/roles/<name>')
      .refine((r) => !GCP_BASIC_ROLES.includes(r), 'basic roles (owner, editor, viewer) cannot carry the expiry condition'),
  }),
  'gcp.group-membership': z.strictObject({
    kind: z.literal('gcp.group-membership'),
    group: z.string().max(254).regex(GCP_GROUP_EMAIL, "must be a Google group's email address, such as prod-admins@example.com"),
  }),
};
export type GcpKind = keyof typeof gcpTargetSchemas;
export type GcpTarget = z.output<(typeof gcpTargetSchemas)['gcp.iam-binding']>;
export type GcpGroupTarget = z.output<(typeof gcpTargetSchemas)['gcp.group-membership']>;

/**
 * The principal type each member prefix denotes, so access rules that restrict
 * `principalTypes` cannot be passed by declaring a whole domain or pool a single user.
 */
const GCP_MEMBER_TYPES: Record<string, PrincipalType> = {
  user: 'user',
  group: 'group',
  serviceAccount: 'workload',
  domain: 'group',
  principalSet: 'group',
};

/** One identity of a pool: a workforce pool holds people, a workload identity pool workloads, `goog/subject` a Google account. */
function poolPrincipalType(member: string): 'user' | 'workload' | undefined {
  if (/^principal:\/\/iam\.googleapis\.com\/locations\/global\/workforcePools\//.test(member)) return 'user';
  if (/^principal:\/\/iam\.googleapis\.com\/projects\/[^/]+\/locations\/global\/workloadIdentityPools\//.test(member)) return 'workload';
  if (/^principal:\/\/goog\/subject\//.test(member)) return 'user';
  return undefined;
}

/** The principal type a member string denotes, if it denotes one. */
export function gcpMemberType(member: string): PrincipalType | undefined {
  return GCP_MEMBER_TYPES[member.slice(0, member.indexOf(':'))] ?? poolPrincipalType(member);
}

/**
 * A request for `projects/<number>` is judged under the project id (the GCP adapter looks it up),
 * so a pattern for a number could never match and, in a deny-list, would silently catch nothing.
 * Project ids start with a letter: a digit there can only be a number.
 */
const gcpResourcePatterns = rulePatterns.refine(
  (list) => list.every((p) => !/^projects\/\d/.test(p)),
  'write GCP projects by id (projects/<id>): a request by project number is judged under the id',
);

export const gcpKinds = [
  defineTargetKind({
    kind: 'gcp.iam-binding',
    cloud: 'gcp',
    target: gcpTargetSchemas['gcp.iam-binding'],
    principals: {
      types: ['user', 'group', 'workload'],
      id: GCP_MEMBER,
      idMessage: 'must be a member string (user:, group:, serviceAccount:, domain:, principal://); allUsers and allAuthenticatedUsers are refused',
      impliedType: (id) => {
        const type = gcpMemberType(id);
        return type && { type, mismatch: (declared) => `this member (${id.split(':')[0]}:) is a ${type}, not a ${declared}` };
      },
    },
    rules: {
      fields: { roles: rulePatterns, resources: gcpResourcePatterns, ...rulePrincipalFields },
      matches: (m, t, relation) => matchPatterns(m.roles, t.role, false, relation) && matchPatterns(m.resources, t.resource, false, relation),
    },
  }),
  defineTargetKind({
    kind: 'gcp.group-membership',
    cloud: 'gcp',
    target: gcpTargetSchemas['gcp.group-membership'],
    principals: {
      types: ['user', 'group', 'workload'],
      id: GCP_GROUP_MEMBER,
      idMessage: 'must be user:<email>, serviceAccount:<email> or group:<email> (Cloud Identity enforces a membership expiry for these)',
      impliedType: (id) => {
        const type = gcpMemberType(id);
        return type && { type, mismatch: (declared) => `this member (${id.split(':')[0]}:) is a ${type}, not a ${declared}` };
      },
    },
    rules: {
      // Group emails are case-insensitive, as Google treats them.
      fields: { groups: rulePatterns, ...rulePrincipalFields },
      matches: (m, t, relation) => matchPatterns(m.groups, t.group, true, relation),
    },
  }),
];
