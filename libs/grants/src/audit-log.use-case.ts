import { AuditLog, ChainBreak, ChainVerifier, CheckpointKeyring, CheckpointSink, sortCheckpoints } from '@jit/audit';
import { AuditCheckpoint, AuditCheckpointStore, AuditEvent, AuditFilter, AuditHead, Page } from '@jit/domain';
import { Actor, requireRole } from './actor';

/** Events per database round trip when exporting or verifying. */
const AUDIT_PAGE = 1000;

/**
 * Longest an audit read waits for the chaining round it asked for (docs/audit.md). Past it, or if
 * the round fails, the read serves what is chained and reports how many events are still staged,
 * instead of hanging while another session holds the chain head or returning 500 while rounds fail.
 */
export const AUDIT_READ_CHAIN_WAIT_MS = 2_000;

/** A page of the chain, and the events committed before the read that were not chained in time (normally 0). */
export type AuditReadPage = Page<AuditEvent> & { staged: number };

/** The filtered chain in pages, and the events committed before the read that were not chained in time (normally 0). */
export interface AuditExport {
  staged: number;
  pages: AsyncIterable<AuditEvent[]>;
}

/** Where signed checkpoints are kept and the keys that may sign them; absent when the broker runs unsigned. */
export interface CheckpointTrust {
  keyring: CheckpointKeyring;
  /** The current signing key's public half (SPKI PEM), served with the checkpoints. */
  publicKeyPem: string;
  store: AuditCheckpointStore;
  /** Sinks that can be read back (the JSONL file): their copies are checked too, since the database's may be gone. */
  sinks: readonly CheckpointSink[];
}

export interface VerifyOptions {
  /** Heads recorded earlier outside the database, `seq` and `hash` of a past verify. */
  anchors?: readonly { seq: number; hash: string }[];
  /** Breaks listed in detail (all are counted). */
  maxBreaks?: number;
  /** Walk every stored event (from genesis, or from the archive boundary), not only those after the latest signed checkpoint. */
  full?: boolean;
}

/** Which events a verify walked, and what it took on trust for the ones before. */
export interface VerifyWalk {
  /**
   * `incremental`: the events after the latest valid signed checkpoint, whose hash is trusted
   * because its signature verifies (an event before it altered in place is not seen: use `full`).
   * `full`: every event still in the database.
   */
  mode: 'incremental' | 'full';
  /** The walk started after this event: 0 for genesis, else a checkpoint's `seq`. */
  afterSeq: number;
  /** What the walk started from: genesis, the checkpoint it took on trust, or the archive boundary (events archived before it). */
  from: 'genesis' | 'checkpoint' | 'archive';
  checkpoint: { seq: number; hash: string; signedAt: string } | null;
  /** Events before this `seq` are not in the database (archived, see `npm run audit-archive`); 0 when none. */
  archivedThrough: number;
  note: string;
}

export interface CheckpointSummary {
  /** False when the broker runs without a signing key: nothing beyond the chain and anchors is checked. */
  signed: boolean;
  /** Distinct checkpoints found, in the database and in readable sinks. */
  total: number;
  /** Of those, whose signature verified. */
  valid: number;
  latestSeq: number | null;
  /** Events after the latest valid checkpoint: not yet protected against a re-chained tail. */
  uncovered: number;
  sources: { name: string; checkpoints: number; unreadable: number }[];
}

export interface VerifyResult {
  ok: boolean;
  /** Events walked, and of those, events that verified cleanly. */
  checked: number;
  intact: number;
  /** Anchors given (all matched when `ok`). */
  anchors: number;
  head: { seq: number; hash: string };
  walk: VerifyWalk;
  checkpoints: CheckpointSummary;
  /**
   * Events committed but not yet chained when the walk began (normally 0: verify first waits for
   * a chaining round). Staged events are not part of the chain yet, so they are counted, never
   * a break; a count that stays above zero means no replica is chaining.
   */
  staged: number;
  /** Every break found; `breaks` lists the first `maxBreaks` of them in `seq` order. */
  brokenCount: number;
  breaks: ChainBreak[];
  truncated: boolean;
  firstBroken: ChainBreak | null;
}

/** Reading and verifying the audit log: auditors and admins only. */
export class AuditLogUseCase {
  constructor(
    private readonly audit: AuditLog,
    private readonly trust: CheckpointTrust | null = null,
    /** How long a read waits for its chaining round (`AUDIT_READ_CHAIN_WAIT_MS`). */
    private readonly chainWaitMs = AUDIT_READ_CHAIN_WAIT_MS,
  ) {}

  /**
   * A page of the chain. State changes answer before their events are chained (docs/audit.md),
   * so the read first waits for a round that takes everything committed before it: a client
   * that reads the log right after its request sees that request's events. The wait is bounded:
   * if the round is not done in time (or fails), the page is read as the chain is, and `staged`
   * says how many committed events it cannot show yet.
   */
  async list(actor: Actor, filter: AuditFilter, limit: number, cursor: string | null): Promise<AuditReadPage> {
    requireRole(actor, 'auditor', 'admin');
    const staged = await this.audit.chainedWithin(this.chainWaitMs);
    return { ...(await this.audit.list(filter, limit, cursor)), staged };
  }

  /** The filtered chain, in pages, once everything committed before the call is chained, or the wait bounded (as `list`). */
  async export(actor: Actor, filter: AuditFilter): Promise<AuditExport> {
    requireRole(actor, 'auditor', 'admin');
    const staged = await this.audit.chainedWithin(this.chainWaitMs);
    return { staged, pages: this.audit.stream(filter, AUDIT_PAGE) };
  }

  /** Checkpoints in `seq` order, with the public keys they verify under. */
  async checkpoints(
    actor: Actor,
    afterSeq: number,
    limit: number,
  ): Promise<{ items: AuditCheckpoint[]; publicKey: string | null; keyIds: string[]; signed: boolean }> {
    requireRole(actor, 'auditor', 'admin');
    if (!this.trust) return { items: [], publicKey: null, keyIds: [], signed: false };
    const { store, keyring, publicKeyPem } = this.trust;
    return { items: await store.list(afterSeq, limit), publicKey: publicKeyPem, keyIds: keyring.keyIds(), signed: true };
  }

  /**
   * Verifies the chain, streaming, and reports every break: against the chain itself, the anchors
   * given, and every signed checkpoint (from the database and from the sinks that can be read
   * back). By default only the events after the latest valid signed checkpoint are walked (its
   * signature makes its hash trustworthy, so a re-chained history still breaks at the first event
   * after it); `full` walks every event still stored. Cost is linear in the events walked; memory
   * is the checkpoints and the listed breaks.
   */
  async verify(actor: Actor, options: VerifyOptions = {}): Promise<VerifyResult> {
    requireRole(actor, 'auditor', 'admin');
    const anchors = options.anchors ?? [];
    const maxBreaks = options.maxBreaks ?? 100;
    // Judge what was committed before the call: chain it first. A round that fails (the database
    // refused it) or is not done in time leaves the events staged; they are counted below, and the
    // chain is walked as it is.
    await this.audit.chainedWithin(this.chainWaitMs);
    // Checkpoints first, then the head: every checkpoint read was signed over a head no later
    // than the one read next, so one past it shows a rewound head, never a race with the signer.
    const found = await this.collectCheckpoints();
    // Events appended while we walk are after the head and not judged.
    const head = await this.audit.head();
    const early = found.invalid.map((bad) => ({ seq: bad.seq, reason: bad.reason }));
    // Two valid checkpoints for one event with different hashes: the signing key signed a rewrite.
    const bySeq = new Map<number, AuditCheckpoint>();
    const conflicted = new Set<number>();
    for (const c of found.valid) {
      const other = bySeq.get(c.seq);
      if (other && other.hash !== c.hash) {
        conflicted.add(c.seq);
        early.push({ seq: c.seq, reason: `two validly signed checkpoints state different hashes for event ${c.seq} (the signing key signed a rewritten history)` });
      }
      bySeq.set(c.seq, c);
    }
    const walk = await this.chooseWalk(head, bySeq, conflicted, anchors, options.full ?? false);
    const staged = await this.audit.staged();
    const start = walk.checkpoint ? { seq: walk.afterSeq, hash: walk.checkpoint.hash } : undefined;
    const walker = new ChainVerifier({ anchors, checkpoints: found.valid, maxReported: Number.MAX_SAFE_INTEGER, start });
    for (const bad of early) walker.report(bad.seq, null, 'checkpoint', bad.reason);
    outer: for await (const page of this.audit.stream({ afterSeq: walk.afterSeq }, AUDIT_PAGE)) {
      for (const e of page) {
        if (e.seq > head.seq) break outer;
        walker.add(e);
        // Keep memory bounded on a log broken everywhere: beyond the listed ones only the count matters.
        if (walker.breaks.length > maxBreaks * 4) walker.breaks.splice(maxBreaks * 2);
      }
    }
    walker.finish(head);
    if (walker.breakCount === 0) {
      // Events appended during the walk moved the head on; anything past the current head was
      // written around the chain (a forged row that did not update the head).
      const [max, now] = [await this.audit.maxSeq(), await this.audit.head()];
      if (max > now.seq) walker.report(now.seq + 1, null, 'inserted', `events after ${now.seq} are not in the chain head (inserted)`);
    }
    const breaks = [...walker.breaks].sort((a, b) => a.seq - b.seq).slice(0, maxBreaks);
    const latestSeq = found.valid.length ? Math.max(...found.valid.map((c) => c.seq)) : null;
    return {
      ok: walker.breakCount === 0,
      checked: walker.checked,
      intact: walker.intact,
      anchors: anchors.length,
      head,
      walk,
      checkpoints: {
        signed: this.trust !== null,
        total: found.total,
        valid: found.valid.length,
        latestSeq,
        uncovered: Math.max(0, head.seq - (latestSeq ?? 0)),
        sources: found.sources,
      },
      staged,
      brokenCount: walker.breakCount,
      breaks,
      truncated: walker.breakCount > breaks.length,
      firstBroken: breaks[0] ?? null,
    };
  }

  /**
   * Where the walk starts. The database's log begins at genesis, or after the checkpoint that
   * sealed the last archived segment (its first stored event follows a valid signed checkpoint).
   * A full walk starts there; an incremental one at the latest valid checkpoint that is at or
   * before the head and before every anchor given (so each anchor is still judged).
   */
  private async chooseWalk(
    head: AuditHead,
    valid: ReadonlyMap<number, AuditCheckpoint>,
    conflicted: ReadonlySet<number>,
    anchors: readonly { seq: number }[],
    full: boolean,
  ): Promise<VerifyWalk> {
    const describe = (c: AuditCheckpoint) => ({ seq: c.seq, hash: c.hash, signedAt: c.signedAt.toISOString() });
    const first = (await this.audit.list({}, 1, null)).items[0];
    const firstSeq = first ? first.seq : head.seq + 1;
    const boundary = firstSeq > 1 && !conflicted.has(firstSeq - 1) ? valid.get(firstSeq - 1) : undefined;
    const archivedThrough = boundary ? boundary.seq : 0;
    const base: VerifyWalk = boundary
      ? { mode: 'full', afterSeq: boundary.seq, from: 'archive', checkpoint: describe(boundary), archivedThrough,
          note: `events 1..${boundary.seq} were archived; the walk starts from the signed checkpoint that sealed them` }
      : { mode: 'full', afterSeq: 0, from: 'genesis', checkpoint: null, archivedThrough, note: 'every event from genesis' };
    if (full) return base;
    if (!this.trust) return { ...base, note: `${base.note} (the broker runs unsigned: no checkpoint to start from)` };
    const limit = Math.min(head.seq, ...anchors.map((a) => a.seq - 1));
    let best: AuditCheckpoint | undefined;
    for (const c of valid.values()) {
      if (c.seq > base.afterSeq && c.seq <= limit && !conflicted.has(c.seq) && (!best || c.seq > best.seq)) best = c;
    }
    if (!best) return { ...base, note: `${base.note} (no valid signed checkpoint after it to start from)` };
    return {
      mode: 'incremental',
      afterSeq: best.seq,
      from: 'checkpoint',
      checkpoint: describe(best),
      archivedThrough,
      note:
        `events after ${best.seq}, the latest valid signed checkpoint${anchors.length ? ' before every anchor' : ''}; ` +
        `events ${base.afterSeq + 1}..${best.seq} were not re-read (full=true walks them)`,
    };
  }

  private async collectCheckpoints(): Promise<{
    valid: AuditCheckpoint[];
    invalid: { seq: number; reason: string }[];
    total: number;
    sources: CheckpointSummary['sources'];
  }> {
    if (!this.trust) return { valid: [], invalid: [], total: 0, sources: [] };
    const { keyring, store, sinks } = this.trust;
    const fromDb: AuditCheckpoint[] = [];
    for (let after = 0; ; ) {
      const page = await store.list(after, AUDIT_PAGE);
      fromDb.push(...page);
      if (page.length < AUDIT_PAGE) break;
      after = page[page.length - 1].seq;
    }
    const bySource: { name: string; items: AuditCheckpoint[]; unreadable: number }[] = [{ name: 'database', items: fromDb, unreadable: 0 }];
    for (const sink of sinks) {
      if (!sink.readBack) continue;
      const read = await sink.readBack();
      bySource.push({ name: sink.name, items: read.checkpoints, unreadable: read.unreadable });
    }
    return {
      ...sortCheckpoints(keyring, bySource),
      sources: bySource.map((s) => ({ name: s.name, checkpoints: s.items.length, unreadable: s.unreadable })),
    };
  }
}
