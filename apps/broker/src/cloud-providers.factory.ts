import { ConfigError, ProviderOptionsOf } from '@jit/config';
import { Clock, CloudAccessProvider, CloudName, SystemClock } from '@jit/domain';
import { AWS_ENV, AwsIamStsProvider } from '@jit/provider-aws';
import { AZURE_ENV, AzureProvider } from '@jit/provider-azure';
import { GCP_ENV, GcpIamBindingProvider } from '@jit/provider-gcp';

/** Each cloud's environment variables, as its provider lib declares them, for `loadConfig` (docs/providers/*.md). */
export const PROVIDER_ENVS = { aws: AWS_ENV, azure: AZURE_ENV, gcp: GCP_ENV };

/**
 * Builds the real adapter for each configured cloud from the options `loadConfig` validated, on
 * the broker's `clock` (hand the same one to `startBroker`): AWS takes it as `clock`, Azure and
 * GCP as `now`.
 */
export function createCloudProviders(
  clouds: CloudName[],
  options: ProviderOptionsOf<typeof PROVIDER_ENVS>,
  clock: Clock = new SystemClock(),
): CloudAccessProvider[] {
  const now = () => clock.now();
  const required = <T>(cloud: CloudName, value: T | undefined): T => {
    if (value === undefined) throw new ConfigError(`no validated configuration for ${cloud}: load it with loadConfig(env, PROVIDER_ENVS)`);
    return value;
  };
  return clouds.map((cloud): CloudAccessProvider => {
    switch (cloud) {
      case 'aws':
        return new AwsIamStsProvider({ ...required(cloud, options.aws), clock });
      case 'azure':
        return new AzureProvider({ ...required(cloud, options.azure), now });
      case 'gcp':
        return new GcpIamBindingProvider({ ...required(cloud, options.gcp), now });
    }
  });
}
