import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { ProviderError } from '@jit/domain';
import { isNoSuchEntity } from './aws-error.classifier';
import { decodePolicyText } from './broker-policy.document';
import { IamEntity } from './iam-entity';
import { CallRunner } from './inline-policy.client';

/** What STS will check on `AssumeRole` that the broker can check first. */
export interface RoleInfo {
  /** Seconds; IAM's default for a role created without it is 3,600. */
  maxSessionDuration: number;
  /** The decoded `AssumeRolePolicyDocument`, or undefined if IAM returned none or it is not JSON. */
  trustPolicy: unknown;
}

/**
 * How long a role's `GetRole` answer is reused: long enough that a burst of grants on one role
 * costs one call, short enough that an operator's fix to the trust policy or MaxSessionDuration
 * is seen within a minute (IAM itself takes seconds to propagate it).
 */
export const ROLE_INFO_TTL_MS = 60_000;

/** `GetRole` answers per role ARN, cached briefly; a failed read is not cached. */
export class RoleInfoCache {
  private readonly cache = new Map<string, { at: number; info: Promise<RoleInfo> }>();

  constructor(
    private readonly iamFor: (entity: IamEntity) => IAMClient,
    private readonly run: CallRunner,
    private readonly now: () => Date,
  ) {}

  get(role: IamEntity, field = 'target.roleArn'): Promise<RoleInfo> {
    const hit = this.cache.get(role.arn);
    if (hit && this.now().getTime() - hit.at < ROLE_INFO_TTL_MS) return hit.info;
    const info = this.read(role, field);
    this.cache.set(role.arn, { at: this.now().getTime(), info });
    info.catch(() => this.forget(role));
    return info;
  }

  /** Drops a cached answer STS has just contradicted. */
  forget(role: IamEntity): void {
    this.cache.delete(role.arn);
  }

  private async read(role: IamEntity, field: string): Promise<RoleInfo> {
    try {
      const out = await this.run('GetRole', (abortSignal) => this.iamFor(role).send(new GetRoleCommand({ RoleName: role.name }), { abortSignal }));
      return { maxSessionDuration: out.Role?.MaxSessionDuration ?? 3600, trustPolicy: parseQuietly(out.Role?.AssumeRolePolicyDocument) };
    } catch (e) {
      if (isNoSuchEntity(e)) throw new ProviderError('invalid', `IAM role ${role.name} does not exist (${role.arn})`, { field, code: 'NoSuchEntity', cause: e });
      throw e;
    }
  }
}

function parseQuietly(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(decodePolicyText(text));
  } catch {
    return undefined;
  }
}
