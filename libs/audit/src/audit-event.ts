import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { AuditEvent, GENESIS_HASH } from '@jit/domain';

/**
 * SHA-256 over the previous hash and the RFC 8785 canonical JSON of every field, so any change
 * to a stored event, or to the order of events, changes every hash after it.
 */
export function hashEvent(e: Omit<AuditEvent, 'hash'>): string {
  const body = canonicalize({
    seq: e.seq,
    id: e.id,
    occurredAt: e.occurredAt.toISOString(),
    type: e.type,
    grantId: e.grantId,
    cloud: e.cloud,
    principal: e.principal,
    actor: e.actor,
    data: e.data,
  });
  return createHash('sha256').update(e.prevHash).update('\n').update(body!).digest('hex');
}

export interface ChainBreak {
  seq: number;
  id: string | null;
  reason: string;
}

/**
 * Walks events in `seq` order and reports the first broken link: an altered event (its hash no
 * longer matches), an inserted or deleted one (a gap in `seq` or a `prevHash` that does not
 * match its predecessor), or a truncated tail (the chain head records a later event).
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  checked = 0;
  broken: ChainBreak | null = null;
  private readonly anchors: Map<number, string>;

  /**
   * `anchors`: heads recorded earlier outside the database (`seq` and `hash` of a past verify).
   * The chain alone cannot show a rewrite of every event from some point on together with the
   * head row; an anchor can, since the rewritten event at its `seq` no longer has its hash.
   */
  constructor(anchors: readonly { seq: number; hash: string }[] = []) {
    this.anchors = new Map(anchors.map((a) => [a.seq, a.hash.toLowerCase()]));
  }

  add(e: AuditEvent): boolean {
    if (this.broken) return false;
    if (e.seq !== this.expectedSeq) {
      this.broken = {
        seq: this.expectedSeq,
        id: e.id,
        reason: e.seq > this.expectedSeq ? `events ${this.expectedSeq}..${e.seq - 1} are missing` : `event ${e.seq} is out of order`,
      };
      return false;
    }
    if (e.prevHash !== this.prevHash) {
      this.broken = { seq: e.seq, id: e.id, reason: 'prevHash does not match the previous event' };
      return false;
    }
    if (hashEvent(e) !== e.hash) {
      this.broken = { seq: e.seq, id: e.id, reason: 'event content does not match its hash (altered)' };
      return false;
    }
    const anchored = this.anchors.get(e.seq);
    if (anchored !== undefined && anchored !== e.hash) {
      this.broken = { seq: e.seq, id: e.id, reason: `event ${e.seq} does not have the anchored hash (the history up to it was rewritten)` };
      return false;
    }
    this.prevHash = e.hash;
    this.expectedSeq++;
    this.checked++;
    return true;
  }

  finish(head: { seq: number; hash: string }): void {
    if (this.broken) return;
    const last = this.expectedSeq - 1;
    const beyond = [...this.anchors.keys()].filter((seq) => seq > last).sort((a, b) => a - b)[0];
    if (beyond !== undefined) {
      this.broken = { seq: beyond, id: null, reason: `the log ends at ${last}, before anchored event ${beyond} (events deleted and the head rewound)` };
      return;
    }
    if (head.seq !== last || head.hash !== this.prevHash) {
      this.broken = {
        seq: last + 1,
        id: null,
        reason: head.seq > last ? `events ${last + 1}..${head.seq} are missing (tail deleted)` : 'chain head does not match the last event',
      };
    }
  }
}
