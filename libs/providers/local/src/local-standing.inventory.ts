import { setTimeout as delay } from 'node:timers/promises';
import { CloudName, InventoryPage, ProviderError, StandingAccessInventory, StandingAssignment } from '@jit/domain';

/** Faults of the inventory: the next page calls that fail as throttled (with a Retry-After) or for good. */
export interface InventoryFaults {
  throttled?: number;
  terminal?: number;
  /** Page calls of this part always fail (terminal), to show a failed part not stopping the scan. */
  failingPart?: string;
  /** Each page call takes this long (a slow cloud), cut short by the caller's signal. */
  latencyMs?: number;
}

/**
 * The in-memory cloud's standing access: assignments a test or the sandbox seeds, plus one for
 * each grant the local cloud holds (the broker's own, `brokerOwned`). Parts are the scopes, pages
 * `pageSize` assignments long, the cursor the offset; `remove` and `restore` change what is listed.
 */
export class LocalStandingInventory implements StandingAccessInventory {
  private readonly seeded = new Map<string, StandingAssignment>();
  private faults: InventoryFaults = {};
  /** Every call, for tests: which part and cursor each page call asked for. */
  readonly calls: { op: 'parts' | 'page' | 'remove' | 'restore'; part?: string; cursor?: string | null; key?: string }[] = [];
  pageSize = 2;

  constructor(
    readonly cloud: CloudName,
    private readonly brokerOwned: () => StandingAssignment[] = () => [],
  ) {}

  seed(...assignments: StandingAssignment[]): void {
    for (const a of assignments) this.seeded.set(a.key, { ...a, cloud: this.cloud });
  }

  unseed(key: string): void {
    this.seeded.delete(key);
  }

  has(key: string): boolean {
    return this.seeded.has(key);
  }

  inject(faults: InventoryFaults): void {
    this.faults = { ...this.faults, ...faults };
  }

  private all(): StandingAssignment[] {
    return [...this.seeded.values(), ...this.brokerOwned()];
  }

  async parts(signal?: AbortSignal): Promise<string[]> {
    signal?.throwIfAborted();
    this.calls.push({ op: 'parts' });
    return [...new Set(this.all().map((a) => a.scope))].sort();
  }

  async page(part: string, cursor: string | null, signal?: AbortSignal): Promise<InventoryPage> {
    signal?.throwIfAborted();
    this.calls.push({ op: 'page', part, cursor });
    if (this.faults.latencyMs) await delay(this.faults.latencyMs, undefined, { signal });
    if (this.faults.failingPart === part) throw new ProviderError('terminal', `AccessDenied: cannot list ${part} (injected)`, { code: 'AccessDenied' });
    if (this.faults.throttled) {
      this.faults.throttled--;
      throw new ProviderError('transient', 'Throttling: Rate exceeded (injected)', { code: 'Throttling', retryAfterMs: 5 });
    }
    if (this.faults.terminal) {
      this.faults.terminal--;
      throw new ProviderError('terminal', 'AccessDenied (injected)', { code: 'AccessDenied' });
    }
    const offset = cursor === null ? 0 : Number(cursor);
    if (!Number.isInteger(offset) || offset < 0) throw new ProviderError('invalid', `bad cursor ${cursor}`, { field: 'cursor' });
    const inPart = this.all()
      .filter((a) => a.scope === part)
      .sort((a, b) => a.key.localeCompare(b.key));
    const assignments = inPart.slice(offset, offset + this.pageSize);
    const next = offset + this.pageSize;
    return { assignments, cursor: next < inPart.length ? String(next) : null };
  }

  async remove(assignment: StandingAssignment, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.calls.push({ op: 'remove', key: assignment.key });
    this.seeded.delete(assignment.key);
  }

  async restore(assignment: StandingAssignment, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.calls.push({ op: 'restore', key: assignment.key });
    this.seeded.set(assignment.key, { ...assignment, cloud: this.cloud, brokerOwned: false });
  }
}
