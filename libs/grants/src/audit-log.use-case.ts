import { ChainBreak, ChainVerifier } from '@jit/audit';
import { AuditEvent, AuditFilter, GrantStore, Page } from '@jit/domain';
import { Actor, requireRole } from './actor';

/** Events per database round trip when exporting or verifying. */
const AUDIT_PAGE = 1000;

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** Anchors given and matched (all of them when `ok`). */
  anchors: number;
  head: { seq: number; hash: string };
  firstBroken: ChainBreak | null;
}

/** Reading the audit log: auditors and admins only. */
export class AuditLogUseCase {
  constructor(private readonly store: GrantStore) {}

  list(actor: Actor, filter: AuditFilter, limit: number, cursor: string | null): Promise<Page<AuditEvent>> {
    requireRole(actor, 'auditor', 'admin');
    return this.store.listAudit(filter, limit, cursor);
  }

  export(actor: Actor, filter: AuditFilter): AsyncIterable<AuditEvent[]> {
    requireRole(actor, 'auditor', 'admin');
    return this.store.streamAudit(filter, AUDIT_PAGE);
  }

  async verify(actor: Actor, anchors: readonly { seq: number; hash: string }[] = []): Promise<VerifyResult> {
    requireRole(actor, 'auditor', 'admin');
    // Read the head first: events appended while we walk are after it and not judged.
    const head = await this.store.auditHead();
    // An anchor past the head is judged too: the log must reach it.
    const verifier = new ChainVerifier(anchors);
    outer: for await (const page of this.store.streamAudit({}, AUDIT_PAGE)) {
      for (const e of page) {
        if (e.seq > head.seq) break outer;
        if (!verifier.add(e)) break outer;
      }
    }
    verifier.finish(head);
    if (!verifier.broken) {
      // Events appended during the walk moved the head on; anything past the current head was
      // written around the chain (a forged row that did not update the head).
      const [max, now] = [await this.store.maxAuditSeq(), await this.store.auditHead()];
      if (max > now.seq) verifier.broken = { seq: now.seq + 1, id: null, reason: `events after ${now.seq} are not in the chain head (inserted)` };
    }
    return { ok: verifier.broken === null, checked: verifier.checked, anchors: anchors.length, head, firstBroken: verifier.broken };
  }
}
