import { AuditEvent, GENESIS_HASH } from '@jit/domain';
import { ChainVerifier, hashEvent } from './audit-event';

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

function verify(events: AuditEvent[], head: { seq: number; hash: string }) {
  const v = new ChainVerifier();
  for (const e of events) if (!v.add(e)) break;
  v.finish(head);
  return v.broken;
}

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
});
