import { GrantSpec, OwnedArtifact, ProvisionOutcome, ProvisionStatus } from '@jit/domain';

/** One way of granting an Azure target kind (Graph PIM, ARM PIM, ARM RBAC, app roles). */
export interface AzureMechanism {
  grant(spec: GrantSpec, overlapping: GrantSpec[]): Promise<ProvisionOutcome>;
  revoke(spec: GrantSpec, overlapping: GrantSpec[]): Promise<void>;
  status(spec: GrantSpec): Promise<ProvisionStatus>;
  listOwned(): AsyncIterable<OwnedArtifact>;
  removeOrphan(artifact: OwnedArtifact): Promise<void>;
}
