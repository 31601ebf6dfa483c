import { randomBytes } from 'node:crypto';
import { AccessAdvisorStore } from './access-advisor.store';
import { AwsSimError } from './aws-sim.error';
import { ManagedPolicyStore } from './managed-policy.store';
import { IAM_RULES, member } from './member.constraints';
import { parseIdentityPolicy, parseTrustPolicy, policySize } from './policy-document.validator';
import { PolicyDocument } from './policy.types';

export type EntityKind = 'role' | 'user' | 'group';

export interface IamEntity {
  kind: EntityKind;
  name: string;
  path: string;
  accountId: string;
  arn: string;
  /** `AROA…` / `AIDA…`, the prefix of `aws:userid`. */
  id: string;
  maxSessionDuration: number;
  createDate: Date;
  /** Roles only: the `AssumeRolePolicyDocument` as stored. */
  trustPolicy?: string;
  /** Inline policies in insertion order, as sent (the service returns the text it stored). */
  policies: Map<string, string>;
  /** Attached managed policy ARNs, in attach order. */
  attached: string[];
  /** Users only: the names of the groups it is a member of, in the order it joined them. */
  groups: string[];
  /** Roles only: `RoleLastUsed` (seeded; the simulator does not record use itself). */
  lastUsed?: { date: Date; region: string };
  /** Users only: `PasswordLastUsed` (seeded). */
  passwordLastUsed?: Date;
}

export interface EntityOptions {
  accountId?: string;
  /** IAM's default is 3,600 seconds (one hour), as for a role created without it. */
  maxSessionDuration?: number;
  path?: string;
  /**
   * Roles only: the trust policy (text or object). Defaults to trusting the default account
   * (where the broker's long-term key lives) with `sts:AssumeRole` and `sts:SetSourceIdentity`.
   */
  trustPolicy?: string | object;
}

/**
 * Aggregate inline policy size per entity, whitespace not counted (IAM quotas page,
 * cloud-apis.md B1).
 */
export const INLINE_POLICY_BUDGET: Record<EntityKind, number> = { role: 10_240, user: 2_048, group: 5_120 };
const NOUN: Record<EntityKind, 'Role' | 'User' | 'Group'> = { role: 'Role', user: 'User', group: 'Group' };
const ID_PREFIX: Record<EntityKind, string> = { role: 'AROA', user: 'AIDA', group: 'AGPA' };
export const DEFAULT_ACCOUNT_ID = '123456789012';

/** The trust policy of a role seeded without one: the default account may assume it and set a source identity. */
export function defaultTrustPolicy(): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:root` }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] }],
  });
}

function uniqueId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return prefix + [...randomBytes(17)].map((b) => alphabet[b % 32]).join('');
}

/** IAM names are unique case-insensitively within an account; accounts keep separate state. */
const key = (accountId: string, name: string) => `${accountId}/${name.toLowerCase()}`;

/** Roles, users and groups and their inline policies in every account, with the checks IAM applies to each write. */
export class IamStore {
  private readonly entities: Record<EntityKind, Map<string, IamEntity>> = { role: new Map(), user: new Map(), group: new Map() };
  readonly managed = new ManagedPolicyStore();
  readonly advisor = new AccessAdvisorStore();

  create(kind: EntityKind, name: string, options: EntityOptions = {}): IamEntity {
    member({ [`${NOUN[kind]}Name`]: name }, `${NOUN[kind]}Name`, IAM_RULES[`${NOUN[kind]}Name`]);
    const path = options.path ?? '/';
    member({ Path: path }, 'Path', IAM_RULES.Path);
    const maxSessionDuration = options.maxSessionDuration ?? 3600;
    if (kind === 'role') member({ MaxSessionDuration: String(maxSessionDuration) }, 'MaxSessionDuration', IAM_RULES.MaxSessionDuration);
    const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
    if (!/^\d{12}$/.test(accountId)) throw AwsSimError.validation(`${accountId} is not a 12-digit account id`);
    if (this.entities[kind].has(key(accountId, name))) {
      throw new AwsSimError('EntityAlreadyExists', 409, `${NOUN[kind]} with name ${name} already exists.`);
    }
    let trustPolicy: string | undefined;
    if (kind === 'role') {
      trustPolicy = options.trustPolicy === undefined ? defaultTrustPolicy()
        : typeof options.trustPolicy === 'string' ? options.trustPolicy : JSON.stringify(options.trustPolicy);
      member({ AssumeRolePolicyDocument: trustPolicy }, 'AssumeRolePolicyDocument', IAM_RULES.PolicyDocument);
      parseTrustPolicy(trustPolicy);
    }
    const entity: IamEntity = {
      kind,
      name,
      path,
      accountId,
      arn: `arn:aws:iam::${accountId}:${kind}${path}${name}`,
      id: uniqueId(ID_PREFIX[kind]),
      maxSessionDuration,
      createDate: new Date(),
      trustPolicy,
      policies: new Map(),
      attached: [],
      groups: [],
    };
    this.entities[kind].set(key(accountId, name), entity);
    return entity;
  }

  get(kind: EntityKind, accountId: string, name: string): IamEntity {
    const entity = this.entities[kind].get(key(accountId, name));
    if (!entity) throw AwsSimError.noSuchEntity(`The ${kind} with name ${name} cannot be found.`);
    return entity;
  }

  /** Deletes a role or user (Identity Center removing its `AWSReservedSSO_…` role); false when there was none. */
  remove(kind: EntityKind, accountId: string, name: string): boolean {
    return this.entities[kind].delete(key(accountId, name));
  }

  /** The entity an IAM ARN names, or undefined (the ARN's path is not needed to find it). */
  byArn(arn: string): IamEntity | undefined {
    const m = /^arn:aws[\w-]*:iam::(\d{12}):(role|user|group)\/(?:.*\/)?([^/]+)$/.exec(arn);
    if (!m) return undefined;
    return this.entities[m[2] as EntityKind].get(key(m[1], m[3]));
  }

  putPolicy(kind: EntityKind, accountId: string, entityName: string, policyName: string, text: string): void {
    const entity = this.get(kind, accountId, entityName);
    parseIdentityPolicy(text);
    const others = [...entity.policies].filter(([n]) => n !== policyName).reduce((sum, [, t]) => sum + policySize(t), 0);
    const budget = INLINE_POLICY_BUDGET[kind];
    if (others + policySize(text) > budget) {
      throw AwsSimError.limitExceeded(`Maximum policy size of ${budget} bytes exceeded for ${kind} ${entity.name}`);
    }
    entity.policies.set(policyName, text);
  }

  getPolicy(kind: EntityKind, accountId: string, entityName: string, policyName: string): string {
    const text = this.get(kind, accountId, entityName).policies.get(policyName);
    if (text === undefined) throw AwsSimError.noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`);
    return text;
  }

  deletePolicy(kind: EntityKind, accountId: string, entityName: string, policyName: string): void {
    const entity = this.get(kind, accountId, entityName);
    if (!entity.policies.delete(policyName)) {
      throw AwsSimError.noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`);
    }
  }

  listPolicies(kind: EntityKind, accountId: string, entityName: string): string[] {
    // IAM lists inline policy names in alphabetical order.
    return [...this.get(kind, accountId, entityName).policies.keys()].sort();
  }

  /** Every entity of `kind` in the account, in IAM's listing order (by name). */
  all(kind: EntityKind, accountId: string): IamEntity[] {
    return [...this.entities[kind].values()].filter((e) => e.accountId === accountId).sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  }

  /** The groups a user is in. */
  groupsOf(user: IamEntity): IamEntity[] {
    return user.groups.map((g) => this.get('group', user.accountId, g));
  }

  /** A group's members. */
  membersOf(group: IamEntity): IamEntity[] {
    return this.all('user', group.accountId).filter((u) => u.groups.some((g) => g.toLowerCase() === group.name.toLowerCase()));
  }

  addToGroup(accountId: string, groupName: string, userName: string): void {
    const group = this.get('group', accountId, groupName);
    const user = this.get('user', accountId, userName);
    if (!user.groups.some((g) => g.toLowerCase() === group.name.toLowerCase())) user.groups.push(group.name);
  }

  removeFromGroup(accountId: string, groupName: string, userName: string): void {
    const group = this.get('group', accountId, groupName);
    const user = this.get('user', accountId, userName);
    const at = user.groups.findIndex((g) => g.toLowerCase() === group.name.toLowerCase());
    if (at < 0) throw AwsSimError.noSuchEntity(`The user with name ${user.name} is not a member of group ${group.name}.`);
    user.groups.splice(at, 1);
  }

  /** The entity's inline policies; with `managed`, also the default versions of its attached policies, and a user's groups' policies. */
  /** Every identity policy the entity holds: inline, attached managed (default version), and a user's groups' policies. */
  parsedPolicies(entity: IamEntity): PolicyDocument[] {
    const texts: string[] = [];
    for (const holder of [entity, ...(entity.kind === 'user' ? this.groupsOf(entity) : [])]) {
      texts.push(...holder.policies.values());
      for (const arn of holder.attached) {
        const policy = this.managed.find(holder.accountId, arn);
        if (policy) texts.push(this.managed.defaultDocument(policy));
      }
    }
    return texts.map((t) => parseIdentityPolicy(t));
  }
}
