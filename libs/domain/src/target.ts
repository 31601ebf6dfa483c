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

/** IAM role and user ARNs (the AWS kinds' principals, and the AWS options' reconciliation list). */
export const AWS_ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
export const AWS_USER_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:user\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
/** A GCP project, folder or organization (gcp.iam-binding's resource, and the GCP options' reconciliation list). */
export const GCP_RESOURCE = /^(projects\/([a-z][-a-z0-9]{4,28}[a-z0-9]|\d{1,20})|folders\/\d{1,20}|organizations\/\d{1,20})$/;
