import { CloudAccessProvider, CloudName } from '@jit/domain';
import { AwsIamStsProvider, awsProviderOptionsFromEnv } from '@jit/provider-aws';
import { AzureProvider, azureProviderOptionsFromEnv } from '@jit/provider-azure';
import { GcpIamBindingProvider, gcpProviderOptionsFromEnv } from '@jit/provider-gcp';

/** Builds the real adapter for each configured cloud from the environment (docs/providers/*.md). */
export function createCloudProviders(clouds: CloudName[], env: NodeJS.ProcessEnv): CloudAccessProvider[] {
  return clouds.map((cloud): CloudAccessProvider => {
    switch (cloud) {
      case 'aws':
        return new AwsIamStsProvider(awsProviderOptionsFromEnv(env));
      case 'azure':
        return new AzureProvider(azureProviderOptionsFromEnv(env));
      case 'gcp':
        return new GcpIamBindingProvider(gcpProviderOptionsFromEnv(env));
    }
  });
}
