import { CloudAccessProvider, CloudName } from '@jit/domain';

/** Builds the real adapter for each configured cloud from the environment. */
export function createCloudProviders(clouds: CloudName[], env: NodeJS.ProcessEnv): CloudAccessProvider[] {
  void env;
  return clouds.map((cloud) => {
    switch (cloud) {
      case 'aws':
      case 'azure':
      case 'gcp':
        throw new Error(`the ${cloud} adapter is not available in this build`);
    }
  });
}
