import { ConfigError, ProviderOptionsOf } from '@jit/config';
import { Clock, CloudAccessProvider, CloudName, SystemClock } from '@jit/domain';
import { AWS_ENV } from '@jit/provider-aws/kinds';
import { AZURE_ENV } from '@jit/provider-azure/kinds';
import { GCP_ENV } from '@jit/provider-gcp/kinds';

/** Each cloud's environment variables, as its provider lib declares them, for `loadConfig` (docs/providers/*.md). */
export const PROVIDER_ENVS = { aws: AWS_ENV, azure: AZURE_ENV, gcp: GCP_ENV };

/**
 * Builds the real adapter for each configured cloud from the options `loadConfig` validated, on
 * the broker's `clock` (hand the same one to `startBroker`): AWS takes it as `clock`, Azure and
 * GCP as `now`. Each provider lib's barrel, which loads that cloud's SDK, is imported here and
 * only for the clouds asked for, so a broker serving one cloud does not load the other two SDKs
 * (the rest of the broker takes kinds and variables from the SDK-free `@jit/provider-<cloud>/kinds`).
 */
export async function createCloudProviders(
  clouds: CloudName[],
  options: ProviderOptionsOf<typeof PROVIDER_ENVS>,
  clock: Clock = new SystemClock(),
  /** The broker's longest grant (JIT_MAX_DURATION): GCP discovery tells its own bindings from look-alikes by it. */
  maxGrantSeconds?: number,
): Promise<CloudAccessProvider[]> {
  const now = () => clock.now();
  const required = <T>(cloud: CloudName, value: T | undefined): T => {
    if (value === undefined) throw new ConfigError(`no validated configuration for ${cloud}: load it with loadConfig(env, PROVIDER_ENVS)`);
    return value;
  };
  const build = async (cloud: CloudName): Promise<CloudAccessProvider> => {
    switch (cloud) {
      case 'aws': {
        const settings = required(cloud, options.aws);
        const { AwsIamStsProvider } = await import('@jit/provider-aws');
        return new AwsIamStsProvider({ ...settings, clock });
      }
      case 'azure': {
        const settings = required(cloud, options.azure);
        const { AzureProvider } = await import('@jit/provider-azure');
        return new AzureProvider({ ...settings, now });
      }
      case 'gcp': {
        const settings = required(cloud, options.gcp);
        const { GcpIamBindingProvider } = await import('@jit/provider-gcp');
        return new GcpIamBindingProvider({ ...settings, now, ...(maxGrantSeconds !== undefined && { maxGrantSeconds }) });
      }
    }
  };
  const providers: CloudAccessProvider[] = [];
  for (const cloud of clouds) providers.push(await build(cloud));
  return providers;
}
