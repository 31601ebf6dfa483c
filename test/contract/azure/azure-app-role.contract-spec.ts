import { describeProviderContract } from '@jit/testing';
import { MECHANISMS, azureHarness } from './azure-harness.factory';

describeProviderContract(MECHANISMS.appRole.name, azureHarness(MECHANISMS.appRole));
