import { describeProviderContract } from '@jit/testing';
import { MECHANISMS, azureHarness } from './azure-harness.factory';

describeProviderContract(MECHANISMS.directoryRole.name, azureHarness(MECHANISMS.directoryRole));
