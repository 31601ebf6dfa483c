import { AuditLog, ChainBreak, ChainVerifier, CheckpointKeyring, CheckpointSink, sortCheckpoints } from '@jit/audit';
import { AuditCheckpoint, AuditCheckpointStore, AuditEvent, AuditFilter, Page } from '@jit/domain';
import { Actor, requireRole } from './actor';

/** Events per database round trip when exporting or verifying. */
const AUDIT_PAGE = 1000;

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
  checkpoints: CheckpointSummary;
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
  ) {}

  list(actor: Actor, filter: AuditFilter, limit: number, cursor: string | null): Promise<Page<AuditEvent>> {
    requireRole(actor, 'auditor', 'admin');
    return this.audit.list(filter, limit, cursor);
  }

  export(actor: Actor, filter: AuditFilter): AsyncIterable<AuditEvent[]> {
    requireRole(actor, 'auditor', 'admin');
    return this.audit.stream(filter, AUDIT_PAGE);
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
   * Walks the whole chain once, streaming, and reports every break: against the chain itself,
   * the anchors given, and every signed checkpoint (from the database and from the sinks that can
   * be read back). Cost is linear in the events; memory is the checkpoints and the listed breaks.
   */
  async verify(actor: Actor, options: VerifyOptions = {}): Promise<VerifyResult> {
    requireRole(actor, 'auditor', 'admin');
    const anchors = options.anchors ?? [];
    const maxBreaks = options.maxBreaks ?? 100;
    // Checkpoints first, then the head: every checkpoint read was signed over a head no later
    // than the one read next, so one past it shows a rewound head, never a race with the signer.
    const found = await this.collectCheckpoints();
    // Events appended while we walk are after the head and not judged.
    const head = await this.audit.head();
    const verifier = new ChainVerifier({ anchors, checkpoints: found.valid, maxReported: Number.MAX_SAFE_INTEGER });
    for (const bad of found.invalid) verifier.report(bad.seq, null, 'checkpoint', bad.reason);
    outer: for await (const page of this.audit.stream({}, AUDIT_PAGE)) {
      for (const e of page) {
        if (e.seq > head.seq) break outer;
        verifier.add(e);
        // Keep memory bounded on a log broken everywhere: beyond the listed ones only the count matters.
        if (verifier.breaks.length > maxBreaks * 4) verifier.breaks.splice(maxBreaks * 2);
      }
    }
    verifier.finish(head);
    if (verifier.breakCount === 0) {
      // Events appended during the walk moved the head on; anything past the current head was
      // written around the chain (a forged row that did not update the head).
      const [max, now] = [await this.audit.maxSeq(), await this.audit.head()];
      if (max > now.seq) verifier.report(now.seq + 1, null, 'inserted', `events after ${now.seq} are not in the chain head (inserted)`);
    }
    const breaks = [...verifier.breaks].sort((a, b) => a.seq - b.seq).slice(0, maxBreaks);
    const latestSeq = found.valid.length ? Math.max(...found.valid.map((c) => c.seq)) : null;
    return {
      ok: verifier.breakCount === 0,
      checked: verifier.checked,
      intact: verifier.intact,
      anchors: anchors.length,
      head,
      checkpoints: {
        signed: this.trust !== null,
        total: found.total,
        valid: found.valid.length,
        latestSeq,
        uncovered: Math.max(0, head.seq - (latestSeq ?? 0)),
        sources: found.sources,
      },
      brokenCount: verifier.breakCount,
      breaks,
      truncated: verifier.breakCount > breaks.length,
      firstBroken: breaks[0] ?? null,
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
