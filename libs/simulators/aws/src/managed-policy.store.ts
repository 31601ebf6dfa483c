import { randomBytes } from 'node:crypto';
import { AwsSimError } from './aws-sim.error';
import { AWS_MANAGED_POLICIES } from './aws-managed.policies';
import { parseIdentityPolicy, policySize } from './policy-document.validator';

export interface PolicyVersion {
  versionId: string;
  document: string;
  createDate: Date;
}

/** A managed policy: the customer's (in one account) or AWS's (`arn:aws:iam::aws:policy/...`, in every account). */
export interface ManagedPolicy {
  name: string;
  id: string;
  arn: string;
  path: string;
  /** `aws` for an AWS managed policy. */
  owner: string;
  description?: string;
  defaultVersionId: string;
  versions: PolicyVersion[];
  createDate: Date;
  updateDate: Date;
}

/** Managed policy documents may hold 6,144 characters, whitespace not counted (IAM quotas, cloud-apis.md B1). */
export const MANAGED_POLICY_SIZE = 6_144;
/** Managed policies attached per role, user or group: IAM's default quota (raisable to 20). */
export const ATTACHED_POLICIES_QUOTA = 10;
const AWS_MANAGED_CREATED = new Date('2015-02-06T18:39:46Z');

function policyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return 'ANPA' + [...randomBytes(17)].map((b) => alphabet[b % 32]).join('');
}

/** What a policy is attached to: a role, user or group (structurally, to keep the stores free of a cycle). */
export interface PolicyHolder {
  kind: string;
  accountId: string;
  attached: string[];
}

/** Managed policies, their versions, and attaching them to roles, users and groups. */
export class ManagedPolicyStore {
  private readonly byArn = new Map<string, ManagedPolicy>();

  constructor() {
    for (const seed of AWS_MANAGED_POLICIES) {
      const arn = `arn:aws:iam::aws:policy${seed.path}${seed.name}`;
      this.byArn.set(arn, {
        name: seed.name,
        id: policyId(),
        arn,
        path: seed.path,
        owner: 'aws',
        description: seed.description,
        defaultVersionId: seed.versionId,
        versions: [{ versionId: seed.versionId, document: JSON.stringify(seed.document), createDate: AWS_MANAGED_CREATED }],
        createDate: AWS_MANAGED_CREATED,
        updateDate: AWS_MANAGED_CREATED,
      });
    }
  }

  create(accountId: string, name: string, document: string, path = '/', description?: string): ManagedPolicy {
    const arn = `arn:aws:iam::${accountId}:policy${path}${name}`;
    if ([...this.byArn.values()].some((p) => p.owner === accountId && p.name.toLowerCase() === name.toLowerCase())) {
      throw new AwsSimError('EntityAlreadyExists', 409, `A policy called ${name} already exists. Duplicate names are not allowed.`);
    }
    parseIdentityPolicy(document);
    if (policySize(document) > MANAGED_POLICY_SIZE) throw AwsSimError.limitExceeded(`Cannot exceed quota for PolicySize: ${MANAGED_POLICY_SIZE}`);
    const now = new Date();
    const policy: ManagedPolicy = {
      name, id: policyId(), arn, path, owner: accountId, description, defaultVersionId: 'v1',
      versions: [{ versionId: 'v1', document, createDate: now }], createDate: now, updateDate: now,
    };
    this.byArn.set(arn, policy);
    return policy;
  }

  /** The policy an ARN names, as the caller's account sees it (AWS's in every account, a customer's in its own). */
  get(accountId: string, arn: string): ManagedPolicy {
    const policy = this.byArn.get(arn);
    if (!policy || (policy.owner !== 'aws' && policy.owner !== accountId)) throw AwsSimError.noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    return policy;
  }

  find(accountId: string, arn: string): ManagedPolicy | undefined {
    const policy = this.byArn.get(arn);
    return policy && (policy.owner === 'aws' || policy.owner === accountId) ? policy : undefined;
  }

  /** The customer's policies of an account and every AWS managed policy. */
  visible(accountId: string): ManagedPolicy[] {
    return [...this.byArn.values()].filter((p) => p.owner === accountId || p.owner === 'aws');
  }

  defaultDocument(policy: ManagedPolicy): string {
    return policy.versions.find((v) => v.versionId === policy.defaultVersionId)!.document;
  }

  attach(entity: PolicyHolder, arn: string): void {
    const policy = this.get(entity.accountId, arn);
    if (entity.attached.includes(policy.arn)) return;
    if (entity.attached.length >= ATTACHED_POLICIES_QUOTA) {
      const noun = entity.kind.charAt(0).toUpperCase() + entity.kind.slice(1);
      throw AwsSimError.limitExceeded(`Cannot exceed quota for PoliciesPer${noun}: ${ATTACHED_POLICIES_QUOTA}`);
    }
    entity.attached.push(policy.arn);
  }

  detach(entity: PolicyHolder, arn: string): void {
    const at = entity.attached.indexOf(arn);
    if (at < 0) throw AwsSimError.noSuchEntity(`Policy ${arn} was not found.`);
    entity.attached.splice(at, 1);
  }
}
