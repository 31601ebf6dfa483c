import { randomBytes } from 'node:crypto';
import { AwsSimError } from './aws-sim.error';
import { IAM_RULES, member } from './member.constraints';
import { parseIdentityPolicy, parseTrustPolicy, policySize } from './policy-document.validator';
import { PolicyDocument } from './policy.types';

export type EntityKind = 'role' | 'user';

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
 * cloud-apis.md B1). Groups (5,120) are not simulated.
 */
export const INLINE_POLICY_BUDGET: Record<EntityKind, number> = { role: 10_240, user: 2_048 };
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

/** Roles, users and their inline policies in every account, with the checks IAM applies to each write. */
export class IamStore {
  private readonly entities: Record<EntityKind, Map<string, IamEntity>> = { role: new Map(), user: new Map() };

  create(kind: EntityKind, name: string, options: EntityOptions = {}): IamEntity {
    const nameRule = kind === 'role' ? IAM_RULES.RoleName : IAM_RULES.UserName;
    member({ [`${kind === 'role' ? 'Role' : 'User'}Name`]: name }, `${kind === 'role' ? 'Role' : 'User'}Name`, nameRule);
    const path = options.path ?? '/';
    member({ Path: path }, 'Path', IAM_RULES.Path);
    const maxSessionDuration = options.maxSessionDuration ?? 3600;
    if (kind === 'role') member({ MaxSessionDuration: String(maxSessionDuration) }, 'MaxSessionDuration', IAM_RULES.MaxSessionDuration);
    const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
    if (!/^\d{12}$/.test(accountId)) throw AwsSimError.validation(`${accountId} is not a 12-digit account id`);
    if (this.entities[kind].has(key(accountId, name))) {
      throw new AwsSimError('EntityAlreadyExists', 409, `${kind === 'role' ? 'Role' : 'User'} with name ${name} already exists.`);
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
      id: uniqueId(kind === 'role' ? 'AROA' : 'AIDA'),
      maxSessionDuration,
      createDate: new Date(),
      trustPolicy,
      policies: new Map(),
    };
    this.entities[kind].set(key(accountId, name), entity);
    return entity;
  }

  get(kind: EntityKind, accountId: string, name: string): IamEntity {
    const entity = this.entities[kind].get(key(accountId, name));
    if (!entity) throw AwsSimError.noSuchEntity(`The ${kind} with name ${name} cannot be found.`);
    return entity;
  }

  /** The entity an IAM ARN names, or undefined (the ARN's path is not needed to find it). */
  byArn(arn: string): IamEntity | undefined {
    const m = /^arn:aws[\w-]*:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
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

  parsedPolicies(entity: IamEntity): PolicyDocument[] {
    return [...entity.policies.values()].map((t) => parseIdentityPolicy(t));
  }
}
