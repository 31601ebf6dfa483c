import { TargetKinds } from '@jit/domain';
import { awsKinds } from '@jit/provider-aws';
import { azureKinds } from '@jit/provider-azure';
import { gcpKinds } from '@jit/provider-gcp';

/** The kinds of the three clouds, as the broker's composition root registers them (apps/broker/src/target-kinds.ts). */
export const targetKinds = new TargetKinds([...azureKinds, ...awsKinds, ...gcpKinds]);
