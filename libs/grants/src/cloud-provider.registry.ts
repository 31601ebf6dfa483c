import { CloudAccessProvider, CloudName, DomainError } from '@jit/domain';

/** The enabled cloud adapters, one per cloud. */
export class CloudProviderRegistry {
  private readonly byCloud = new Map<CloudName, CloudAccessProvider>();

  constructor(providers: CloudAccessProvider[]) {
    for (const p of providers) {
      if (this.byCloud.has(p.cloud)) throw new Error(`two providers for ${p.cloud}`);
      this.byCloud.set(p.cloud, p);
    }
  }

  get(cloud: CloudName): CloudAccessProvider {
    const provider = this.byCloud.get(cloud);
    if (!provider) {
      throw new DomainError('provider_disabled', `cloud ${cloud} is not enabled on this broker (JIT_PROVIDERS)`, [
        { field: 'cloud', message: `${cloud} is not enabled` },
      ]);
    }
    return provider;
  }

  all(): CloudAccessProvider[] {
    return [...this.byCloud.values()];
  }
}
