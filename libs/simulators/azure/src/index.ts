/**
 * The Entra/Graph/ARM simulator: token endpoint, Graph directory objects, PIM and app-role
 * assignments, ARM PIM and role assignments over HTTPS with a generated certificate, as the
 * published descriptions define them. For tests and the sandbox only; imports nothing in the
 * repo but the simulator kit (@jit/sim-kit: server, faults, request log) (docs/architecture.md).
 */
export { AzureSimulator } from './azure.simulator';
export type { HoldsQuery, RecordedCall } from './azure.simulator';
export type { SimFaults } from './sim-faults';
export type { SimAppRole, SimArmPermission, SimClient, SimRolePolicy, SimSeed, SimSignInActivity } from './sim-state';
export { BUILT_IN_AZURE_ROLES, BUILT_IN_DIRECTORY_ROLES } from './sim-state';
