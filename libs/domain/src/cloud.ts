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

export function cloudOfKind(kind: TargetKind): CloudName {
  return kind.slice(0, kind.indexOf('.')) as CloudName;
}

export const PRINCIPAL_TYPES = ['user', 'group', 'workload'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

export interface Principal {
  type: PrincipalType;
  id: string;
}
