import { AuditEvent } from '../audit-event';

export type CursorOutcome = 'delivered' | 'failed' | 'skipped';

/**
 * Each relay destination's position in the audit log (a webhook's, a SIEM's), and which replica
 * delivers it: the audit log is the outbox, and a cursor row with a lease makes one replica at a
 * time its sender.
 */
export abstract class NotificationCursorStore {
  /**
   * Takes or renews the destination's lease for `owner` until `leaseMs` from now and returns the
   * seq of the last event handled. A destination never seen before starts at the current end of
   * the log (`startAt` `end`, webhooks: history is not sent) or before its first event (`start`,
   * a SIEM: everything still stored is sent). Returns null while another owner's lease is running.
   */
  abstract claim(webhook: string, owner: string, leaseMs: number, startAt?: 'end' | 'start'): Promise<number | null>;

  /**
   * Moves the cursor forward to `seq` and counts the outcome for `count` events (1 by default;
   * `skipped` only moves it). Does
   * nothing if `owner` has lost the lease to another replica or the cursor is already at or
   * past `seq`, so a late writer never moves a cursor back.
   */
  abstract advance(webhook: string, owner: string, seq: number, outcome: CursorOutcome, count?: number): Promise<void>;

  /** Gives up `owner`'s lease so another replica can take over at once; idempotent. */
  abstract release(webhook: string, owner: string): Promise<void>;

  /**
   * Up to `limit` audit events with seq > `seq` and a type in `types`, in seq order. Events are
   * committed in seq order, so an event never appears behind one already returned.
   */
  abstract eventsAfter(seq: number, types: readonly string[], limit: number): Promise<AuditEvent[]>;
}
