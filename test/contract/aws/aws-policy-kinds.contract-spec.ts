import { describeProviderContract } from '@jit/testing';
import { awsContractHarness } from './aws-contract.harness';

describeProviderContract('AWS aws.iam-policy', () => awsContractHarness('aws.iam-policy'));
describeProviderContract('AWS aws.assume-role', () => awsContractHarness('aws.assume-role'));
