import { randomUUID } from 'node:crypto';
import {
  AuditEventInput,
  CloudName,
  Clock,
  DiscoveryScan,
  DiscoveryStore,
  ProviderError,
  StagedAuditEvent,
  StandingAccessInventory,
  StandingAssignment,
  toWellFormedDeep,
} from '@jit/domain';
import { RetrySettings, isAbortError, withRetry } from '@jit/resilience';
import { ClaimedGrantsReader, grantVouches, unbackedClaimReason } from './broker-claims';
import { PrivilegeCriteria, judge } from './privilege-criteria';

/** The lease one replica holds while it scans (a row in the database, renewed after every page). */
export const DISCOVERY_LEASE = 'discovery-scan';

export interface ScannerOptions {
  /** This replica's lease owner id. */
  owner: string;
  /** How long the lease lasts unless renewed (after each page). */
  leaseMs: number;
  /** Retries of one page or part list on transient failures (throttling honoured through `retryAfterMs`). */
  retry?: Partial<RetrySettings>;
  /**
   * The grants an assignment that claims to be the broker's is checked against (one query a page):
   * only a claim backed by a grant of the same cloud and principal whose access may still exist
   * keeps the assignment out of the findings. Without it no claim is backed: every one is reported.
   */
  grants?: ClaimedGrantsReader;
  /** How long after its end a grant still vouches for its artifact (the reconcile look-back; 20 minutes by default). */
  claimLookbackMs?: number;
  /** Called after every stored page (tests stop a scan here, as a crash would). */
  onPage?: (cloud: CloudName, part: string, pages: number) => void | Promise<void>;
}

export interface ScanRunOutcome {
  scan: DiscoveryScan | null;
  /** False when another replica holds the lease, or no scan is running. */
  ran: boolean;
}

const DEFAULT_RETRY: RetrySettings = {
  maxAttempts: 5,
  backoff: { baseMs: 500, capMs: 30_000, jitter: 'equal' },
  retryable: (e) => e instanceof ProviderError && e.kind === 'transient',
  retryAfterMs: (e) => (e instanceof ProviderError ? e.options.retryAfterMs : undefined),
  maxRetryAfterMs: 120_000,
};

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 1000);
}

/** Events for the store to commit with the state change: an id, a time, and text PostgreSQL stores as it is (as the audit log stages them). */
export function stageEvents(inputs: readonly AuditEventInput[], now: Date): StagedAuditEvent[] {
  return inputs.map((input) => ({ ...toWellFormedDeep(input), id: randomUUID(), occurredAt: now }));
}

/**
 * Runs discovery scans (docs/discovery.md, "Scans"): every configured cloud's inventory, part by
 * part and page by page, each page's findings and the part's next cursor stored together, so a
 * scan picks up where it stopped after a crash or a kill. One replica at a time holds the lease;
 * transient failures are retried with backoff (or the cloud's Retry-After); a part that still fails
 * is recorded and the scan goes on with the others.
 */
export class DiscoveryScanner {
  private readonly retry: RetrySettings;
  private running: Promise<ScanRunOutcome> | null = null;

  constructor(
    private readonly store: DiscoveryStore,
    private readonly inventories: readonly StandingAccessInventory[],
    private readonly criteria: PrivilegeCriteria,
    private readonly clock: Clock,
    /** Called with the staged events once the scan's end committed, so the audit log chains them. */
    private readonly chained: () => void,
    private readonly options: ScannerOptions,
  ) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  get clouds(): CloudName[] {
    return this.inventories.map((i) => i.cloud);
  }

  /** Creates a scan (or returns null when one is already running). */
  async create(trigger: 'manual' | 'schedule', requestedBy: string): Promise<DiscoveryScan | null> {
    return this.store.createScan({ id: randomUUID(), trigger, requestedBy, now: this.clock.now() });
  }

  /** Runs the running scan, if this replica gets the lease; concurrent calls in this process share one run. */
  runPending(signal?: AbortSignal): Promise<ScanRunOutcome> {
    this.running ??= this.run(signal).finally(() => (this.running = null));
    return this.running;
  }

  private async run(signal?: AbortSignal): Promise<ScanRunOutcome> {
    const { owner, leaseMs } = this.options;
    let scan = await this.store.runningScan();
    if (!scan) return { scan: null, ran: false };
    if (!(await this.store.claimLease(DISCOVERY_LEASE, owner, leaseMs, this.clock.now()))) return { scan, ran: false };
    try {
      for (const inventory of this.inventories) {
        signal?.throwIfAborted();
        await this.scanCloud(scan, inventory, signal);
      }
      scan = (await this.store.getScan(scan.id))!;
      const parts = scan.parts;
      const failed = parts.filter((p) => p.state === 'failed').length + scan.clouds.filter((c) => !c.listed).length;
      const now = this.clock.now();
      const event: AuditEventInput = {
        type: 'discovery.scan_completed',
        grantId: null,
        cloud: null,
        principal: null,
        actor: scan.requestedBy,
        data: {
          scanId: scan.id,
          trigger: scan.trigger,
          clouds: scan.clouds.map((c) => c.cloud),
          parts: parts.length,
          failedParts: failed,
          pages: parts.reduce((n, p) => n + p.pages, 0),
          assignments: parts.reduce((n, p) => n + p.assignments, 0),
        },
      };
      const state = failed > 0 && failed === parts.length + scan.clouds.filter((c) => !c.listed).length ? 'failed' : 'completed';
      const finished = await this.store.finishScan(scan.id, state, now, stageEvents([event], now));
      this.chained();
      return { scan: finished, ran: true };
    } finally {
      await this.store.releaseLease(DISCOVERY_LEASE, owner).catch(() => undefined);
    }
  }

  private async scanCloud(scan: DiscoveryScan, inventory: StandingAccessInventory, signal?: AbortSignal): Promise<void> {
    const cloud = inventory.cloud;
    if (!scan.clouds.some((c) => c.cloud === cloud)) {
      try {
        const parts = await withRetry(this.retry, (s) => inventory.parts(s), { signal });
        await this.store.setParts(scan.id, cloud, { parts }, this.clock.now());
      } catch (e) {
        if (isAbortError(e) || signal?.aborted) throw e;
        await this.store.setParts(scan.id, cloud, { error: message(e) }, this.clock.now());
        return;
      }
      scan = (await this.store.getScan(scan.id))!;
    }
    for (const part of scan.parts.filter((p) => p.cloud === cloud && p.state === 'pending')) {
      let cursor = part.cursor;
      let pages = part.pages;
      for (;;) {
        signal?.throwIfAborted();
        let page;
        try {
          page = await withRetry(this.retry, (s) => inventory.page(part.part, cursor, s), { signal });
        } catch (e) {
          if (isAbortError(e) || signal?.aborted) throw e;
          await this.store.failPart(scan.id, cloud, part.part, message(e), this.clock.now());
          break;
        }
        const judged = await this.judgePage(page.assignments);
        await this.store.savePage(scan.id, cloud, part.part, judged, page.cursor, this.clock.now());
        pages++;
        await this.options.onPage?.(cloud, part.part, pages);
        if (!(await this.store.claimLease(DISCOVERY_LEASE, this.options.owner, this.options.leaseMs, this.clock.now()))) {
          throw new Error('the discovery lease was taken over by another replica');
        }
        if (page.cursor === null) break;
        cursor = page.cursor;
      }
    }
  }

  /**
   * The page's findings. The broker's own grants are not standing access and are left out, but a
   * name anyone who can write the cloud can forge proves nothing: an assignment is the broker's only
   * when a grant it claims (`brokerGrantIds`) is in the database for the same cloud and principal and
   * its access may still exist. Any other claim is reported, with why, and judged as usual.
   */
  private async judgePage(assignments: readonly StandingAssignment[]): Promise<{ assignment: StandingAssignment; privileged: boolean; reasons: string[] }[]> {
    const claimed = [...new Set(assignments.flatMap((a) => (a.brokerOwned ? (a.brokerGrantIds ?? []).map((id) => id.toLowerCase()) : [])))];
    const ids = claimed.filter(isUuid);
    const grants = ids.length && this.options.grants ? await this.options.grants.findByIds(ids) : [];
    const byId = new Map(grants.map((g) => [g.id, g]));
    const since = new Date(this.clock.now().getTime() - (this.options.claimLookbackMs ?? DEFAULT_CLAIM_LOOKBACK_MS));
    const out = [];
    for (const assignment of assignments) {
      const judgement = judge(assignment, this.criteria);
      if (assignment.brokerOwned) {
        const ids = assignment.brokerGrantIds ?? [];
        if (ids.some((id) => { const g = byId.get(id.toLowerCase()); return g !== undefined && grantVouches(g, assignment, since); })) continue;
        out.push({ assignment, privileged: judgement.privileged, reasons: [unbackedClaimReason(ids), ...judgement.reasons] });
        continue;
      }
      out.push({ assignment, ...judgement });
    }
    return out;
  }
}

/** The reconcile look-back's default (`DEFAULT_RECONCILE_LOOKBACK_MS` in libs/grants). */
export const DEFAULT_CLAIM_LOOKBACK_MS = 20 * 60_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Grant ids are UUIDs: anything else a forged name claims is no grant (and would fail the query's cast). */
function isUuid(id: string): boolean {
  return UUID.test(id);
}
