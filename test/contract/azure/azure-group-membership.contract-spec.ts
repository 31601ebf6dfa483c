import { describeProviderContract } from '@jit/testing';
import { MECHANISMS, azureHarness } from './azure-harness.factory';

describeProviderContract(MECHANISMS.groupMembership.name, azureHarness(MECHANISMS.groupMembership));
