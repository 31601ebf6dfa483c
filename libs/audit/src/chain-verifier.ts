import { AuditEvent, GENESIS_HASH } from '@jit/domain';
import { hashEvent } from './event-hash';

/** What kind of link is broken. */
export type ChainBreakKind =
  | 'missing' // a gap in seq: events deleted
  | 'out_of_order' // a seq repeated or going backwards
  | 'link' // prevHash does not name the previous event's hash: an event before was rewritten and re-hashed, or one inserted
  | 'altered' // the event's content does not match its own hash
  | 'anchor' // the event's hash is not the one recorded earlier outside the database
  | 'checkpoint' // not the hash a signed checkpoint states, or a checkpoint that does not verify
  | 'tail' // the log ends before the head, an anchor or a checkpoint says it reaches
  | 'inserted'; // events past the chain head

export interface ChainBreak {
  seq: number;
  id: string | null;
  kind: ChainBreakKind;
  reason: string;
  /**
   * Events after this break that verify cleanly before the next break or the end. A single
   * altered event is followed by an intact chain; a re-chained tail is not, unless re-hashed.
   */
  intactAfter: number;
  /** Whether the chain picks up again right after this break: the next event links and is intact. */
  continuesCleanly: boolean;
}

/** A trusted statement of one event's hash: an anchor from an earlier verify, or a signed checkpoint. */
export interface TrustedHash {
  seq: number;
  hash: string;
  /** How to name it in a break: "anchored" or "signed in the checkpoint of 2026-…". */
  source: string;
  kind: 'anchor' | 'checkpoint';
}

export interface ChainVerifierOptions {
  /** Heads recorded earlier outside the database (`seq` and `hash` of a past verify). */
  anchors?: readonly { seq: number; hash: string }[];
  /** Hashes stated by signed checkpoints whose signatures were checked. */
  checkpoints?: readonly { seq: number; hash: string; signedAt: Date }[];
  /** Detailed breaks kept; every break is counted. */
  maxReported?: number;
  /** Verify a log that starts after `seq` (an export from a checkpoint on): the first event must follow `hash`. */
  start?: { seq: number; hash: string };
}

/**
 * Walks events in `seq` order and reports every broken link, not only the first, so one bad
 * event cannot hide others: an altered event (its hash no longer matches), an inserted or deleted
 * one (a gap in `seq` or a `prevHash` that does not match its predecessor), a hash other than the
 * one an anchor or a signed checkpoint states, and a truncated tail. After a break it goes on
 * from the stored hash, so each break is reported once and the rest of the chain is still judged.
 * Holds nothing per event: memory is the trusted hashes and the reported breaks.
 */
export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: string;
  /** False right after a gap: the next event's predecessor is missing, so its link cannot be judged. */
  private linkKnown = true;
  checked = 0;
  /** Events that verified cleanly. */
  intact = 0;
  /** Every break found, including those past `maxReported`. */
  breakCount = 0;
  readonly breaks: ChainBreak[] = [];
  private latest: ChainBreak | null = null;
  private readonly trusted = new Map<number, TrustedHash[]>();
  private readonly maxReported: number;
  readonly startSeq: number;

  constructor(options: ChainVerifierOptions | readonly { seq: number; hash: string }[] = {}) {
    const o: ChainVerifierOptions = Array.isArray(options) ? { anchors: options as { seq: number; hash: string }[] } : (options as ChainVerifierOptions);
    this.maxReported = o.maxReported ?? 100;
    this.startSeq = o.start?.seq ?? 0;
    this.expectedSeq = this.startSeq + 1;
    this.prevHash = o.start?.hash ?? GENESIS_HASH;
    for (const a of o.anchors ?? []) this.trust({ seq: a.seq, hash: a.hash.toLowerCase(), source: 'anchored', kind: 'anchor' });
    for (const c of o.checkpoints ?? []) {
      this.trust({ seq: c.seq, hash: c.hash, source: `signed in the checkpoint of ${c.signedAt.toISOString()}`, kind: 'checkpoint' });
    }
  }

  private trust(t: TrustedHash): void {
    const list = this.trusted.get(t.seq) ?? [];
    if (!list.some((x) => x.hash === t.hash && x.kind === t.kind)) list.push(t);
    this.trusted.set(t.seq, list);
  }

  /** The first break found, if any (kept for callers that show one). */
  get broken(): ChainBreak | null {
    return this.breaks[0] ?? null;
  }

  /** Records a break found outside the walk (a checkpoint whose signature fails, an event past the head). */
  report(seq: number, id: string | null, kind: ChainBreakKind, reason: string): void {
    this.breakCount++;
    const b: ChainBreak = { seq, id, kind, reason, intactAfter: 0, continuesCleanly: false };
    this.latest = b;
    if (this.breaks.length < this.maxReported) this.breaks.push(b);
  }

  /** Judges the next event; true when it verified cleanly. */
  add(e: AuditEvent): boolean {
    this.checked++;
    if (e.seq < this.expectedSeq) {
      this.report(e.seq, e.id, 'out_of_order', `event ${e.seq} repeats or is out of order (expected ${this.expectedSeq})`);
      return false;
    }
    let ok = true;
    if (e.seq > this.expectedSeq) {
      const n = e.seq - this.expectedSeq;
      this.report(this.expectedSeq, e.id, 'missing', n === 1 ? `event ${this.expectedSeq} is missing` : `events ${this.expectedSeq}..${e.seq - 1} are missing (${n})`);
      // The event itself may be intact: the break is the gap before it.
      this.linkKnown = false;
    }
    if (this.linkKnown && e.prevHash !== this.prevHash) {
      this.report(e.seq, e.id, 'link', `prevHash does not match event ${e.seq - 1}'s hash (an earlier event was rewritten and re-hashed, or this one inserted)`);
      ok = false;
    }
    if (hashEvent(e) !== e.hash) {
      this.report(e.seq, e.id, 'altered', 'event content does not match its hash (altered)');
      ok = false;
    }
    for (const t of this.trusted.get(e.seq) ?? []) {
      if (t.hash !== e.hash) {
        this.report(e.seq, e.id, t.kind, t.kind === 'anchor'
            ? `event ${e.seq} does not have the anchored hash (the history up to it was rewritten)`
            : `event ${e.seq} does not have the hash ${t.source} (the history up to it was rewritten)`);
        ok = false;
      }
    }
    if (ok) {
      this.intact++;
      if (this.latest) {
        this.latest.intactAfter++;
        this.latest.continuesCleanly = true;
      }
    }
    // Go on from what is stored, so the next link is judged on its own.
    this.prevHash = e.hash;
    this.expectedSeq = e.seq + 1;
    this.linkKnown = true;
    return ok;
  }

  /** The last `seq` walked. */
  get lastSeq(): number {
    return this.expectedSeq - 1;
  }

  /** The last stored hash walked. */
  get lastHash(): string {
    return this.prevHash;
  }

  /**
   * Judges the end of the log: it must reach every anchor and checkpoint, and, when the head row
   * is given, end exactly at it.
   */
  finish(head: { seq: number; hash: string } | null): void {
    const last = this.lastSeq;
    for (const seq of [...this.trusted.keys()].filter((s) => s > last).sort((a, b) => a - b)) {
      for (const t of this.trusted.get(seq)!) {
        this.report(seq, null, 'tail', `the log ends at ${last}, before ${t.kind === 'anchor' ? `anchored event ${seq}` : `event ${seq} ${t.source}`} (events deleted${head ? ' and the head rewound' : ''})`);
      }
    }
    if (!head) return;
    if (head.seq > last) this.report(last + 1, null, 'tail', `events ${last + 1}..${head.seq} are missing (tail deleted)`);
    else if (head.seq < last) this.report(head.seq + 1, null, 'inserted', `events after ${head.seq} are not in the chain head (inserted)`);
    else if (head.hash !== this.prevHash) this.report(last, null, 'tail', 'chain head does not match the last event');
  }
}
