import { describeProviderContract } from '@jit/testing';
import { MECHANISMS, azureHarness } from './azure-harness.factory';

describeProviderContract(MECHANISMS.resourceRoleWorkload.name, azureHarness(MECHANISMS.resourceRoleWorkload));
describeProviderContract(MECHANISMS.resourceRoleUser.name, azureHarness(MECHANISMS.resourceRoleUser));
