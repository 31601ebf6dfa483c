export const CLOUDS = ['aws', 'azure', 'gcp'] as const;
export type CloudName = (typeof CLOUDS)[number];

/**
 * A target kind's name, `<cloud>.<name>` such as `aws.iam-policy`. Which kinds exist is data: each
 * provider lib describes its own, and the composition root builds the `TargetKinds` registry.
 */
export type TargetKind = string;

export const PRINCIPAL_TYPES = ['user', 'group', 'workload'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

export interface Principal {
  type: PrincipalType;
  id: string;
}
