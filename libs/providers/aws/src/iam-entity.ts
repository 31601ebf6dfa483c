import { ProviderError } from '@jit/domain';

/** An IAM role or user as the inline-policy APIs address it: by name, path dropped. */
export interface IamEntity {
  kind: 'role' | 'user';
  name: string;
  arn: string;
  /** The account that holds it: the broker acts there with that account's credentials. */
  account: string;
  partition: string;
}

const ENTITY_ARN = /^arn:(aws(?:-cn|-us-gov)?):iam::(\d{12}):(role|user)\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

export function entityFromArn(arn: string, field = 'principal.id'): IamEntity {
  const m = ENTITY_ARN.exec(arn);
  if (!m) throw new ProviderError('invalid', `${arn} is not an IAM role or user ARN`, { field });
  const kind = m[3] as 'role' | 'user';
  // RoleName is 1-64 and UserName 1-128 characters of [\w+=,.@-] (iam service-2.json).
  if (m[4].length > (kind === 'role' ? 64 : 128)) {
    throw new ProviderError('invalid', `IAM ${kind} names are at most ${kind === 'role' ? 64 : 128} characters`, { field });
  }
  return { kind, name: m[4], arn, account: m[2], partition: m[1] };
}
