import {
  DeleteRolePolicyCommand, DeleteUserPolicyCommand, GetRolePolicyCommand, GetUserPolicyCommand, IAMClient,
  ListRolePoliciesCommand, ListUserPoliciesCommand, PutRolePolicyCommand, PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { ProviderError } from '@jit/domain';
import { isNoSuchEntity } from './aws-error.classifier';
import { IamEntity } from './iam-entity';

/** Runs one SDK call with retries and a per-call timeout (see `AwsIamStsProvider`). */
export type CallRunner = <T>(operation: string, call: (abortSignal: AbortSignal) => Promise<T>) => Promise<T>;

/** The IAM inline-policy calls for roles and users behind one interface. */
export class InlinePolicyClient {
  constructor(
    /** The IAM client of the entity's account. */
    private readonly iamFor: (entity: IamEntity) => IAMClient,
    private readonly run: CallRunner,
  ) {}

  /** All inline policy names, following `Marker`; empty if the entity does not exist. */
  async listNames(entity: IamEntity): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await this.run<{ PolicyNames?: string[]; IsTruncated?: boolean; Marker?: string }>(`List${this.noun(entity)}Policies`, (abortSignal) =>
        entity.kind === 'role'
          ? this.iamFor(entity).send(new ListRolePoliciesCommand({ RoleName: entity.name, Marker: marker }), { abortSignal })
          : this.iamFor(entity).send(new ListUserPoliciesCommand({ UserName: entity.name, Marker: marker }), { abortSignal }),
      ).catch((e: unknown) => (isNoSuchEntity(e) ? undefined : Promise.reject(e)));
      if (!page) return [];
      names.push(...(page.PolicyNames ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return names;
  }

  /** The policy's text as returned (possibly URL-encoded), or undefined if it or the entity is absent. */
  async get(entity: IamEntity, policyName: string): Promise<string | undefined> {
    try {
      const out = await this.run<{ PolicyDocument?: string }>(`Get${this.noun(entity)}Policy`, (abortSignal) =>
        entity.kind === 'role'
          ? this.iamFor(entity).send(new GetRolePolicyCommand({ RoleName: entity.name, PolicyName: policyName }), { abortSignal })
          : this.iamFor(entity).send(new GetUserPolicyCommand({ UserName: entity.name, PolicyName: policyName }), { abortSignal }),
      );
      return out.PolicyDocument;
    } catch (e) {
      if (isNoSuchEntity(e)) return undefined;
      throw e;
    }
  }

  async put(entity: IamEntity, policyName: string, document: string): Promise<void> {
    try {
      await this.run(`Put${this.noun(entity)}Policy`, (abortSignal) =>
        entity.kind === 'role'
          ? this.iamFor(entity).send(new PutRolePolicyCommand({ RoleName: entity.name, PolicyName: policyName, PolicyDocument: document }), { abortSignal })
          : this.iamFor(entity).send(new PutUserPolicyCommand({ UserName: entity.name, PolicyName: policyName, PolicyDocument: document }), { abortSignal }),
      );
    } catch (e) {
      if (isNoSuchEntity(e)) {
        throw new ProviderError('invalid', `IAM ${entity.kind} ${entity.name} does not exist (${entity.arn})`, { field: 'principal.id', code: 'NoSuchEntity' });
      }
      throw e;
    }
  }

  /** Deleting an absent policy (or one of an absent entity) is success. */
  async delete(entity: IamEntity, policyName: string): Promise<void> {
    try {
      await this.run(`Delete${this.noun(entity)}Policy`, (abortSignal) =>
        entity.kind === 'role'
          ? this.iamFor(entity).send(new DeleteRolePolicyCommand({ RoleName: entity.name, PolicyName: policyName }), { abortSignal })
          : this.iamFor(entity).send(new DeleteUserPolicyCommand({ UserName: entity.name, PolicyName: policyName }), { abortSignal }),
      );
    } catch (e) {
      if (!isNoSuchEntity(e)) throw e;
    }
  }

  private noun(entity: IamEntity): 'Role' | 'User' {
    return entity.kind === 'role' ? 'Role' : 'User';
  }
}
