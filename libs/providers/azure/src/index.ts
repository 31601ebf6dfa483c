export { AzureProvider } from './azure.provider';
export { azureProviderOptionsFromEnv, DEFAULT_RETRY } from './azure-provider.options';
export type { AzureProviderOptions, AzureRetryOptions } from './azure-provider.options';
