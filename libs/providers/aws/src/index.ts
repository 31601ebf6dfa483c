export { AwsIamStsProvider } from './aws-iam-sts.provider';
export { awsProviderOptionsFromEnv, DEFAULT_RETRY } from './aws-provider.options';
export type { AwsProviderOptions, AwsRetryOptions } from './aws-provider.options';
export { BROKER_POLICY_NAME } from './aws-artifact.naming';
