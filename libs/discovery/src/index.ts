/**
 * Discovery of standing access (issue 16, docs/discovery.md): scans of each cloud's standing
 * assignments through the provider libs' `StandingAccessInventory`, the privilege criteria that
 * judge them, findings tracked across scans, the rules-file entries that would make the same
 * access requestable, and the approved, audited, restorable removal of a standing assignment.
 * Imports the domain, config, policy (the rules checker), audit and resilience; storage through
 * domain ports.
 */
export * from './privilege-criteria';
export * from './proposed-rule';
export * from './discovery-scanner';
export * from './broker-claims';
export * from './standing-removals';
export * from './discovery.service';
export * from './discovery-schedule';
