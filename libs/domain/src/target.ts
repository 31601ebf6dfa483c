import { TargetKind } from './cloud';

/**
 * A requested target: its kind and that kind's fields, as the `TargetKinds` registry parsed them
 * with the kind's schema. The provider lib that serves a kind has its precise type
 * (`AwsTarget`, `AzureTarget`, `GcpTarget`).
 */
export interface Target {
  kind: TargetKind;
  [field: string]: unknown;
}
