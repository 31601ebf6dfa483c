export { AzureSimulator } from './azure.simulator';
export type { HoldsQuery, RecordedCall } from './azure.simulator';
export type { SimFaults } from './sim-faults';
export type { SimAppRole, SimClient, SimRolePolicy, SimSeed } from './sim-state';
