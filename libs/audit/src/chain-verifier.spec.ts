import { AuditEvent, GENESIS_HASH } from '@jit/domain';
import { ChainVerifier } from './chain-verifier';
import { hashEvent } from './event-hash';

function chain(n: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = {
      seq, id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`, occurredAt: new Date(1_800_000_000_000 + seq),
      type: 'grant.requested' as const, grantId: null, cloud: 'aws' as const, principal: 'p', actor: 'alice', data: { n: seq }, prevHash,
    };
    const hash = hashEvent(e);
    events.push({ ...e, hash });
    prevHash = hash;
  }
  return events;
}

function walk(events: AuditEvent[], head: { seq: number; hash: string } | null, options = {}) {
  const v = new ChainVerifier(options);
  for (const e of events) v.add(e);
  v.finish(head);
  return v;
}
const verify = (events: AuditEvent[], head: { seq: number; hash: string }) => walk(events, head).broken;

describe(ChainVerifier.name, () => {
  const events = chain(5);
  const head = { seq: 5, hash: events[4].hash };

  it('should accept an intact chain', () => {
    expect(verify(events, head)).toBeNull();
  });

  it('should find an altered event', () => {
    const altered = events.map((e) => (e.seq === 3 ? { ...e, actor: 'mallory' } : e));
    expect(verify(altered, head)).toMatchObject({ seq: 3, reason: expect.stringMatching(/altered/) });
  });

  it('should find a deleted event', () => {
    expect(verify(events.filter((e) => e.seq !== 2), head)).toMatchObject({ seq: 2 });
  });

  it('should find a deleted tail through the chain head', () => {
    expect(verify(events.slice(0, 3), head)).toMatchObject({ seq: 4, reason: expect.stringMatching(/tail/) });
  });

  it('should find a re-hashed forgery whose successor still points at the original', () => {
    const forged = { ...events[1], data: { n: 99 } };
    const rehashed = { ...forged, hash: hashEvent(forged) };
    expect(verify([events[0], rehashed, ...events.slice(2)], head)).toMatchObject({ seq: 3, reason: expect.stringMatching(/prevHash/) });
  });

  describe('every break, not only the first', () => {
    const long = chain(20);
    const longHead = { seq: 20, hash: long[19].hash };

    it('should report each altered event once, with the intact events that follow it', () => {
      const altered = long.map((e) => (e.seq === 4 || e.seq === 15 ? { ...e, actor: 'mallory' } : e));
      const v = walk(altered, longHead);
      expect(v.breakCount).toBe(2);
      expect(v.breaks).toEqual([
        { seq: 4, id: long[3].id, kind: 'altered', reason: expect.any(String), intactAfter: 10, continuesCleanly: true },
        { seq: 15, id: long[14].id, kind: 'altered', reason: expect.any(String), intactAfter: 5, continuesCleanly: true },
      ]);
      expect(v).toMatchObject({ checked: 20, intact: 18 });
    });

    it('should see a deletion after an alteration, which a first-break verifier hides', () => {
      const tampered = long.filter((e) => e.seq !== 12).map((e) => (e.seq === 3 ? { ...e, data: { n: 0 } } : e));
      expect(walk(tampered, longHead).breaks.map((b) => `${b.seq}:${b.kind}`)).toEqual(['3:altered', '12:missing']);
    });

    it('should say a break does not continue cleanly when the next event is broken too, or when it is the last', () => {
      const altered = long.map((e) => (e.seq === 7 || e.seq === 8 || e.seq === 20 ? { ...e, actor: 'x' } : e));
      const v = walk(altered, longHead);
      expect(v.breaks.map((b) => [b.seq, b.continuesCleanly, b.intactAfter])).toEqual([
        [7, false, 0],
        [8, true, 11],
        [20, false, 0],
      ]);
    });

    it('should count every break but list only maxReported', () => {
      const altered = long.map((e) => (e.seq % 2 === 0 ? { ...e, actor: 'x' } : e));
      const v = walk(altered, longHead, { maxReported: 3 });
      expect(v.breakCount).toBe(10);
      expect(v.breaks).toHaveLength(3);
    });

    it('should break at a checkpoint whose hash the event no longer has, and at one past the end', () => {
      const forged = { ...long[9], data: { n: -1 } };
      const rechained = [...long.slice(0, 9), { ...forged, hash: hashEvent(forged) }];
      let prev = rechained[9].hash;
      for (const e of long.slice(10)) {
        const r = { ...e, prevHash: prev };
        const hash = hashEvent(r);
        rechained.push({ ...r, hash });
        prev = hash;
      }
      const checkpoints = [{ seq: 15, hash: long[14].hash, signedAt: new Date(0) }, { seq: 30, hash: 'c'.repeat(64), signedAt: new Date(0) }];
      // The chain alone holds after a full re-chain; the checkpoints do not.
      expect(walk(rechained, { seq: 20, hash: prev }).breakCount).toBe(0);
      const v = walk(rechained, { seq: 20, hash: prev }, { checkpoints });
      expect(v.breaks.map((b) => `${b.seq}:${b.kind}`)).toEqual(['15:checkpoint', '30:tail']);
    });

    it('should verify an export that starts after a checkpoint from the checkpoint, not from genesis', () => {
      const tail = long.slice(10);
      expect(walk(tail, null).broken).toMatchObject({ seq: 1, kind: 'missing' });
      expect(walk(tail, null, { start: { seq: 10, hash: long[9].hash } }).breakCount).toBe(0);
      expect(walk(tail, null, { start: { seq: 10, hash: 'd'.repeat(64) } }).broken).toMatchObject({ seq: 11, kind: 'link' });
    });
  });
});
