/** Discovery's types (from the API document) and the words the discovery pages share. */
import type { components } from '@jit/client';

export type DiscoveryScan = components['schemas']['DiscoveryScan'];
export type DiscoveryFinding = components['schemas']['DiscoveryFinding'];
export type DiscoverySummary = components['schemas']['DiscoverySummary'];

/** Whether a finding's principal is a person, a workload, or not known (the cloud does not always say). */
export function principalNature(human: boolean | null): string {
  return human === true ? 'human' : human === false ? 'workload' : 'unknown';
}

/** Unused for N days, never used, or used recently. */
export function unusedText(f: Pick<DiscoveryFinding, 'neverUsed' | 'unusedDays' | 'lastUsedAt'>): string {
  if (f.neverUsed) return 'never used';
  if (f.unusedDays !== null) return `${f.unusedDays.toLocaleString()} days unused`;
  return f.lastUsedAt ? 'in use' : 'usage unknown';
}
