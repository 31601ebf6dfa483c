import { TargetKinds } from '@jit/domain';
import { awsKinds } from '@jit/provider-aws/kinds';
import { azureKinds } from '@jit/provider-azure/kinds';
import { gcpKinds } from '@jit/provider-gcp/kinds';

/**
 * Every target kind the broker serves: the descriptors each provider lib exports, in one registry
 * that the request parser, the rules file, the metrics and the API document read. A new kind is
 * a descriptor in its provider lib's `*-kinds.ts` (docs/architecture.md, "Target kinds").
 */
export const targetKinds = new TargetKinds([...azureKinds, ...awsKinds, ...gcpKinds]);
