import type { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { AwsProviderOptions } from './aws-provider.options';

/**
 * The Identity Center, Identity Store and Organizations SDKs, loaded on the first
 * `aws.permission-set` call (a dynamic `import()`): an AWS broker that never grants a permission
 * set does not load them (`cloud-providers.factory.spec.ts` counts what a fresh process loads).
 * Every call goes out with the broker's own credentials, to the management account or the
 * delegated administrator of Identity Center (docs/providers/aws.md, "Identity Center").
 */
export interface IdentityCenterSdk {
  sso: SSOAdminClient;
  ids: IdentitystoreClient;
  org: OrganizationsClient;
  ssoAdmin: typeof import('@aws-sdk/client-sso-admin');
  identityStore: typeof import('@aws-sdk/client-identitystore');
  organizations: typeof import('@aws-sdk/client-organizations');
}

export class IdentityCenterClients {
  private loading?: Promise<IdentityCenterSdk>;

  constructor(private readonly options: AwsProviderOptions) {}

  get(): Promise<IdentityCenterSdk> {
    this.loading ??= this.load().catch((e: unknown) => {
      this.loading = undefined;
      throw e;
    });
    return this.loading;
  }

  private async load(): Promise<IdentityCenterSdk> {
    const [ssoAdmin, identityStore, organizations] = await Promise.all([
      import('@aws-sdk/client-sso-admin'),
      import('@aws-sdk/client-identitystore'),
      import('@aws-sdk/client-organizations'),
    ]);
    const o = this.options;
    // Retries are the adapter's (bounded, jittered, classified): one attempt per SDK call.
    const common = { maxAttempts: 1, ...(o.credentials ? { credentials: o.credentials } : {}) };
    const ssoRegion = o.ssoRegion ?? o.region;
    return {
      ssoAdmin,
      identityStore,
      organizations,
      sso: new ssoAdmin.SSOAdminClient({ ...common, region: ssoRegion, ...(o.ssoAdminEndpoint ? { endpoint: o.ssoAdminEndpoint } : {}) }),
      ids: new identityStore.IdentitystoreClient({ ...common, region: ssoRegion, ...(o.identityStoreEndpoint ? { endpoint: o.identityStoreEndpoint } : {}) }),
      org: new organizations.OrganizationsClient({ ...common, region: o.region, ...(o.organizationsEndpoint ? { endpoint: o.organizationsEndpoint } : {}) }),
    };
  }
}
