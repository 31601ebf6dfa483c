import { setTimeout as delay } from 'node:timers/promises';
import { AuditEvent, AuditEventType, Clock, NotificationCursorStore, SystemClock } from '@jit/domain';
import { BackoffOptions, backoffMs } from '@jit/resilience';

/** How often each destination's cursor is compared with the log when nobody calls `kick()`. */
export const RELAY_POLL_INTERVAL_MS = 2_000;
/** How long a replica keeps a destination after its last renewal; another takes over when it lapses (a crash). */
export const RELAY_LEASE_MS = 60_000;
/** First retry delay; doubled per attempt, with jitter. */
export const RELAY_RETRY_BASE_MS = 500;
/** Longest delay between attempts, also the cap on a receiver's Retry-After. */
export const RELAY_RETRY_CAP_MS = 30_000;
/** Events read per query; a destination's batches are cut from these. */
const READ_SIZE = 500;

/** What one send came to. */
export type RelayAttempt = { ok: true } | { ok: false; retryable: boolean; reason: string; retryAfterMs?: number };

/** Per batch: `delivered` (count = its events), `retried` (an attempt failed, another follows), `failed` (given up). */
export type RelayOutcome = 'delivered' | 'retried' | 'failed';

/**
 * One receiver of the audit log: a webhook, a SIEM. The relay owns the cursor, the lease, the
 * order, the batching and the retries; a destination only says which events it wants and sends.
 */
export interface RelayDestination {
  /** Kind, for logs and metrics: `webhook`, `siem`. */
  readonly kind: string;
  /** Unique within its kind; never a credential (it is logged). */
  readonly name: string;
  /** The cursor row's key, unique across every destination. */
  readonly cursor: string;
  /** The event types worth reading for it. */
  readonly types: readonly AuditEventType[];
  /** Events per send (1: one at a time). */
  readonly maxBatch: number;
  /** Where a destination seen for the first time starts: after the current end of the log, or at its first event. */
  readonly startAt: 'end' | 'start';
  /** Attempts per batch, the first included, before it is given up and the cursor moves on; unset: never given up. */
  readonly maxAttempts?: number;
  /** Upper bound on one send; the relay aborts it there. */
  readonly timeoutMs: number;
  /** Whether it is to receive this event; the cursor moves past the others without a send. */
  wants(event: AuditEvent): boolean;
  /**
   * Sends `events` (in seq order, at most `maxBatch`) once. Must be safe to repeat: after a crash
   * between a send and the cursor's update the same batch is sent again.
   */
  send(events: readonly AuditEvent[], attempt: number, signal: AbortSignal): Promise<RelayAttempt>;
  /** Releases what it holds (connections) once the relay has stopped. */
  close?(): Promise<void>;
}

/** Structurally satisfied by Nest's `Logger`. */
export interface RelayLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface AuditRelayOptions {
  /** This replica's id: the lease owner. */
  owner: string;
  pollIntervalMs?: number;
  /** Must exceed every destination's `timeoutMs + retryCapMs`: the lease is renewed before every attempt. */
  leaseMs?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  clock?: Clock;
  logger?: RelayLogger;
  /** Called once per batch outcome, for metrics; `count` is the batch's events. */
  onOutcome?(destination: RelayDestination, outcome: RelayOutcome, count: number): void;
  /** How far a destination is behind: the age of its oldest event not yet handled, 0 when it is caught up. */
  onLag?(destination: RelayDestination, seconds: number): void;
}

/** Why a delivery ended without moving the cursor. */
type Interrupted = 'stopped' | 'lease_lost';

interface Worker {
  destination: RelayDestination;
  doorbell: Doorbell;
}

const consoleLogger: RelayLogger = {
  warn: (m) => console.warn(`[AuditRelay] ${m}`),
  error: (m) => console.error(`[AuditRelay] ${m}`),
};

/**
 * Relays the audit log to outside receivers, using the log itself as the outbox: each
 * destination has a cursor (the last seq handled) and a lease, so one replica at a time sends
 * it, in seq order, at least once, one batch in flight. The cursor moves after each batch; a
 * crash between a send and its cursor update sends that batch again. Each destination runs on
 * its own: one that is down holds only its own cursor.
 */
export class AuditRelay {
  private readonly workers: Worker[];
  private readonly owner: string;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly retryCapMs: number;
  /** Equal jitter: half the step fixed, half random, so receivers that failed together are not hit together. */
  private readonly backoff: BackoffOptions;
  private readonly clock: Clock;
  private readonly logger: RelayLogger;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    destinations: readonly RelayDestination[],
    private readonly store: NotificationCursorStore,
    private readonly options: AuditRelayOptions,
  ) {
    this.workers = destinations.map((destination) => ({ destination, doorbell: new Doorbell() }));
    this.owner = options.owner;
    this.pollIntervalMs = options.pollIntervalMs ?? RELAY_POLL_INTERVAL_MS;
    this.leaseMs = options.leaseMs ?? RELAY_LEASE_MS;
    this.retryCapMs = options.retryCapMs ?? RELAY_RETRY_CAP_MS;
    this.backoff = { baseMs: options.retryBaseMs ?? RELAY_RETRY_BASE_MS, capMs: this.retryCapMs, jitter: 'equal' };
    this.clock = options.clock ?? new SystemClock();
    this.logger = options.logger ?? consoleLogger;
    const cursors = new Set<string>();
    for (const d of destinations) {
      if (this.leaseMs <= d.timeoutMs + this.retryCapMs) {
        throw new Error(`AuditRelay: leaseMs must exceed ${d.kind} ${d.name}'s timeoutMs + retryCapMs, or a lease could lapse during one attempt`);
      }
      if (d.maxAttempts !== undefined && (!Number.isInteger(d.maxAttempts) || d.maxAttempts < 1)) throw new Error('AuditRelay: maxAttempts must be a positive integer');
      if (!Number.isInteger(d.maxBatch) || d.maxBatch < 1) throw new Error('AuditRelay: maxBatch must be a positive integer');
      if (cursors.has(d.cursor)) throw new Error(`AuditRelay: two destinations share the cursor ${d.cursor}`);
      cursors.add(d.cursor);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  start(): void {
    if (this.stopping.signal.aborted) throw new Error('AuditRelay: a stopped relay cannot be started again');
    this.running ??= Promise.all(this.workers.map((w) => this.run(w))).then(() => undefined);
  }

  /** Looks for new events now instead of at the next poll, e.g. after a local commit. */
  kick(): void {
    for (const w of this.workers) w.doorbell.ring();
  }

  /** Lets the attempt in flight finish (and its cursor move), starts no other, then gives up the leases. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.kick();
    if (this.running) await this.running;
    await Promise.all(
      this.workers.map(async ({ destination: d }) => {
        if (this.running) {
          await this.store.release(d.cursor, this.owner).catch((e: unknown) => this.logger.error(`${d.kind} ${d.name}: lease not released: ${describe(e)}`));
        }
        await d.close?.().catch((e: unknown) => this.logger.error(`${d.kind} ${d.name}: not closed: ${describe(e)}`));
      }),
    );
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(w: Worker): Promise<void> {
    while (!this.stopped) {
      try {
        await this.drain(w.destination);
      } catch (e) {
        this.logger.error(`${w.destination.kind} ${w.destination.name}: relay cycle failed: ${describe(e)}`);
      }
      if (!this.stopped) await w.doorbell.wait(this.pollIntervalMs);
    }
  }

  /** Sends every pending event of one destination, if this replica holds (or can take) its lease. */
  private async drain(d: RelayDestination): Promise<void> {
    let cursor = await this.store.claim(d.cursor, this.owner, this.leaseMs, d.startAt);
    if (cursor === null) return;
    reads: for (;;) {
      const events = await this.store.eventsAfter(cursor, d.types, READ_SIZE);
      this.lag(d, events[0]);
      let i = 0;
      while (i < events.length) {
        if (this.stopped) return;
        // Events it does not want are passed over; the cursor moves past them with the next batch or below.
        const batch: AuditEvent[] = [];
        let skippedTo: number | null = null;
        for (; i < events.length && batch.length < d.maxBatch; i++) {
          if (d.wants(events[i])) batch.push(events[i]);
          else if (!batch.length) skippedTo = events[i].seq;
          else break;
        }
        if (!batch.length) {
          if (skippedTo !== null) {
            await this.store.advance(d.cursor, this.owner, skippedTo, 'skipped');
            cursor = skippedTo;
          }
          continue;
        }
        // Renews the lease before each batch, and notices another replica having moved the cursor.
        const held = await this.store.claim(d.cursor, this.owner, this.leaseMs, d.startAt);
        if (held === null) return;
        if (held !== cursor) {
          cursor = held;
          continue reads;
        }
        const outcome = await this.deliver(d, batch, cursor);
        if (outcome === 'stopped' || outcome === 'lease_lost') return;
        const last = batch[batch.length - 1].seq;
        await this.store.advance(d.cursor, this.owner, last, outcome, batch.length);
        cursor = last;
        this.lag(d, events[i]);
      }
      if (events.length < READ_SIZE) return;
    }
  }

  private async deliver(d: RelayDestination, batch: readonly AuditEvent[], cursor: number): Promise<'delivered' | 'failed' | Interrupted> {
    for (let attempt = 1; ; attempt++) {
      let result: RelayAttempt;
      try {
        result = await d.send(batch, attempt, AbortSignal.timeout(d.timeoutMs));
      } catch (e) {
        result = { ok: false, retryable: true, reason: describe(e) };
      }
      if (result.ok) {
        this.count(d, 'delivered', batch.length);
        return 'delivered';
      }
      const range = batch.length === 1 ? `${batch[0].type} event ${batch[0].id} (seq ${batch[0].seq})` : `events seq ${batch[0].seq}-${batch[batch.length - 1].seq}`;
      if (d.maxAttempts !== undefined && (!result.retryable || attempt >= d.maxAttempts)) {
        this.logger.warn(`${d.kind} ${d.name}: gave up on ${range} after ${attempt} attempt(s): ${result.reason}`);
        this.count(d, 'failed', batch.length);
        return 'failed';
      }
      // A destination that never gives up keeps its cursor: the batch waits, and later events behind it.
      if (d.maxAttempts === undefined && (attempt === 1 || attempt % 10 === 0)) {
        this.logger.warn(`${d.kind} ${d.name}: ${range} not delivered (attempt ${attempt}, retrying): ${result.reason}`);
      }
      this.count(d, 'retried', batch.length);
      this.lag(d, batch[0]);
      const wait = result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, this.retryCapMs) : backoffMs(Math.min(attempt, 30), this.backoff);
      if (!(await this.sleep(wait))) return 'stopped';
      if ((await this.store.claim(d.cursor, this.owner, this.leaseMs, d.startAt)) !== cursor) return 'lease_lost';
    }
  }

  private lag(d: RelayDestination, oldestPending: AuditEvent | undefined): void {
    const seconds = oldestPending ? Math.max(0, (this.clock.now().getTime() - oldestPending.occurredAt.getTime()) / 1000) : 0;
    this.hook(d, () => this.options.onLag?.(d, seconds));
  }

  private count(d: RelayDestination, outcome: RelayOutcome, n: number): void {
    this.hook(d, () => this.options.onOutcome?.(d, outcome, n));
  }

  /** A failing metrics hook must not stop the cursor from moving. */
  private hook(d: RelayDestination, call: () => void): void {
    try {
      call();
    } catch (e) {
      this.logger.error(`${d.kind} ${d.name}: metrics hook failed: ${describe(e)}`);
    }
  }

  /** False when `stop()` cut the wait short. */
  private async sleep(ms: number): Promise<boolean> {
    try {
      await delay(ms, undefined, { signal: this.stopping.signal });
      return true;
    } catch {
      return false;
    }
  }
}

export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Wakes a waiting worker early; a ring while it is busy makes its next wait return at once. */
class Doorbell {
  private rung = false;
  private wake: (() => void) | undefined;

  ring(): void {
    this.rung = true;
    this.wake?.();
  }

  async wait(ms: number): Promise<void> {
    if (!this.rung) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    this.rung = false;
  }
}
