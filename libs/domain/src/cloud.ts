export const CLOUDS = ['aws', 'azure', 'gcp'] as const;
export type CloudName = (typeof CLOUDS)[number];

export const TARGET_KINDS = [
  'azure.directory-role',
  'azure.resource-role',
  'azure.group-membership',
  'azure.app-role',
  'aws.iam-policy',
  'aws.assume-role',
  'aws.sts-credentials',
  'gcp.iam-binding',
] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/**
 * Kinds whose grant hands credentials to the caller, once, in the response that provisions it:
 * they can never wait for approval (the approver's response must not carry them) and cannot be
 * finished after a crash (the credentials can no longer be delivered).
 */
export const CREDENTIAL_VENDING_KINDS: readonly TargetKind[] = ['aws.sts-credentials'];

export function cloudOfKind(kind: TargetKind): CloudName {
  return kind.slice(0, kind.indexOf('.')) as CloudName;
}

export const PRINCIPAL_TYPES = ['user', 'group', 'workload'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

export interface Principal {
  type: PrincipalType;
  id: string;
}
