import {
  Clock,
  DiscoveryFinding,
  DiscoveryFindingEvent,
  DiscoveryFindingFilter,
  DiscoveryFindingsReader,
  DiscoveryScan,
  DiscoveryStore,
  DiscoverySummaryRow,
  DomainError,
  StoredRemoval,
  TargetKinds,
} from '@jit/domain';
import { Actor, requireRole } from '@jit/grants';
import { DiscoveryScanner } from './discovery-scanner';
import { ProposedRule, checkProposal, proposeRule } from './proposed-rule';
import { assertId } from './standing-removals';

export interface FindingDetail {
  finding: DiscoveryFinding;
  proposedRule: ProposedRule & { accepted: boolean; issues: string[] };
  history: DiscoveryFindingEvent[];
  removals: StoredRemoval[];
}

export interface DiscoverySummary {
  unusedDays: number;
  lastScan: DiscoveryScan | null;
  clouds: DiscoverySummaryRow[];
}

/**
 * Discovery's use cases for the API (admins and auditors read; admins and auditors start a scan):
 * scans, findings with their proposed rule, history and removals, the summary per cloud. Also the
 * `DiscoveryFindingsReader` access reviews read findings through.
 */
export class DiscoveryService implements DiscoveryFindingsReader {
  constructor(
    private readonly store: DiscoveryStore,
    private readonly scanner: DiscoveryScanner,
    private readonly kinds: TargetKinds,
    private readonly clock: Clock,
    private readonly unusedDays: number,
    /** Starts the running scan in the background (the broker's scheduler). */
    private readonly kick: () => void,
  ) {}

  /** A new scan, started at once in the background; `created` false when one was already running (that one is returned). */
  async startScan(actor: Actor): Promise<{ scan: DiscoveryScan; created: boolean }> {
    requireRole(actor, 'admin', 'auditor');
    if (this.scanner.clouds.length === 0) {
      throw new DomainError('invalid_state', 'no configured cloud can list its standing access', [{ field: '(body)', message: 'no inventory' }]);
    }
    const created = await this.scanner.create('manual', actor.subject);
    const scan = created ?? (await this.store.runningScan());
    if (!scan) throw new DomainError('invalid_state', 'the scan could not be started; try again', [{ field: '(body)', message: 'contended' }]);
    this.kick();
    return { scan, created: !!created };
  }

  async scan(actor: Actor, id: string): Promise<DiscoveryScan> {
    requireRole(actor, 'admin', 'auditor');
    const scan = await this.store.getScan(assertId(id));
    if (!scan) throw new DomainError('not_found', `no scan ${id}`, [{ field: 'id', message: 'no such scan' }]);
    return scan;
  }

  async findings(actor: Actor, filter: DiscoveryFindingFilter, page: { after?: string; limit: number }): Promise<DiscoveryFinding[]> {
    requireRole(actor, 'admin', 'auditor');
    return this.list(filter, page);
  }

  async finding(actor: Actor, id: string, removals: (findingId: string) => Promise<StoredRemoval[]>): Promise<FindingDetail> {
    requireRole(actor, 'admin', 'auditor');
    const finding = await this.store.getFinding(assertId(id));
    if (!finding) throw new DomainError('not_found', `no finding ${id}`, [{ field: 'id', message: 'no such finding' }]);
    const proposal = proposeRule(finding);
    const issues = checkProposal(proposal, this.kinds, this.clock.now());
    return {
      finding,
      proposedRule: { ...proposal, accepted: issues.length === 0, issues },
      history: await this.store.findingHistory(finding.id),
      removals: await removals(finding.id),
    };
  }

  async summary(actor: Actor): Promise<DiscoverySummary> {
    requireRole(actor, 'admin', 'auditor');
    return this.summaryNow();
  }

  /** The summary without an actor: /metrics reads it. */
  async summaryNow(): Promise<DiscoverySummary> {
    return { unusedDays: this.unusedDays, lastScan: await this.store.latestScan(), clouds: await this.store.summary(this.unusedDays, this.clock.now()) };
  }

  // DiscoveryFindingsReader (access reviews)
  get(id: string): Promise<DiscoveryFinding | null> {
    return /^[0-9a-f-]{36}$/i.test(id) ? this.store.getFinding(id.toLowerCase()) : Promise.resolve(null);
  }

  list(filter: DiscoveryFindingFilter, page: { after?: string; limit: number }): Promise<DiscoveryFinding[]> {
    return this.store.listFindings(filter, page, this.clock.now());
  }
}
