import { GrantSpec, ProviderError } from '@jit/domain';
import { AzureCallPolicy } from './azure-call.policy';
import { AzureHttpError } from './azure-http.error';
import { DEFAULT_RETRY } from './azure-provider.options';
import { PimBackend, PimMechanism, PimRequestView } from './pim.mechanism';

const MINUTE = 60_000;

/** A backend whose live assignment started at `start` and whose removals PIM refuses as too soon. */
function refusingBackend(start: Date): PimBackend {
  return {
    name: 'fake PIM',
    activeEnd: async () => ({ start, end: new Date(start.getTime() + 60 * MINUTE) }),
    submit: async () => {
      throw new AzureHttpError('graph', 400, 'ActiveDurationTooShort', 'The Active duration is too short. Miniumum Required is 5 minutes.');
    },
    getRequest: async () => undefined,
    requestsOf: async () => [] as PimRequestView[],
    cancel: async () => undefined,
    brokerRequests: async function* () {},
    artifactName: (grantId: string) => `jit-broker/${grantId}`,
  };
}

const spec: GrantSpec = {
  grantId: '00000000-0000-4000-8000-000000000001',
  principal: { type: 'user', id: '11111111-0000-4000-8000-000000000001' },
  target: { kind: 'azure.directory-role', roleDefinitionId: '5d6b6bb7-de71-4623-b4af-96380a352509', directoryScopeId: '/' },
  startsAt: new Date(),
  expiresAt: new Date(Date.now() + 60 * MINUTE),
  requestedBy: 'alice',
  justification: null,
  artifactName: 'jit-broker/00000000-0000-4000-8000-000000000001',
};

async function revokeError(start: Date): Promise<ProviderError> {
  const mechanism = new PimMechanism(refusingBackend(start), new AzureCallPolicy({ ...DEFAULT_RETRY, baseDelayMs: 1 }));
  const e = await mechanism.revoke(spec, []).then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

describe(PimMechanism.name, () => {
  describe('revoke inside PIM\'s removal window', () => {
    it('should ask for a retry at the assignment\'s start + 5 min and a margin', async () => {
      const start = new Date(Date.now() - MINUTE);
      const before = Date.now();
      const e = await revokeError(start);
      expect(e).toMatchObject({ kind: 'transient', options: { code: 'ActiveDurationTooShort' } });
      const retryAt = before + e.options.retryAfterMs!;
      expect(retryAt).toBeGreaterThanOrEqual(start.getTime() + 5 * MINUTE);
      expect(retryAt).toBeLessThanOrEqual(start.getTime() + 5 * MINUTE + 20_000);
    });

    it('should wait a whole window when PIM still refuses after start + 5 min (made later than its start)', async () => {
      const e = await revokeError(new Date(Date.now() - 10 * MINUTE));
      expect(e.options.retryAfterMs).toBeGreaterThanOrEqual(5 * MINUTE - 1_000);
      expect(e.options.retryAfterMs).toBeLessThanOrEqual(5 * MINUTE);
    });
  });
});

describe(`${PimMechanism.name} shortening a shared schedule on revoke`, () => {
  it('should retry, never give up, when PIM refuses the shortening with ActiveDurationTooShort', async () => {
    const start = new Date(Date.now() - MINUTE);
    const keeper: GrantSpec = { ...spec, grantId: '00000000-0000-4000-8000-000000000002', expiresAt: new Date(Date.now() + 20 * MINUTE) };
    const backend = { ...refusingBackend(start) };
    const mechanism = new PimMechanism(backend, new AzureCallPolicy({ ...DEFAULT_RETRY, baseDelayMs: 1 }));
    const before = Date.now();
    const e = await mechanism.revoke(spec, [keeper]).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ kind: 'transient', options: { code: 'ActiveDurationTooShort' } });
    const retryAt = before + (e as ProviderError).options.retryAfterMs!;
    // The earlier of the window's end (start + 5 min and the margin) and the keeper's end.
    expect(retryAt).toBeGreaterThanOrEqual(start.getTime() + 5 * MINUTE);
    expect(retryAt).toBeLessThanOrEqual(start.getTime() + 5 * MINUTE + 20_000);
  });
});

describe(`${PimMechanism.name} judging overlapping grants by the broker's clock`, () => {
  // The broker's clock is a day ahead of the machine's: a keeper that ended an hour ago by
  // the broker's clock is still in the future by the machine's.
  const brokerNow = new Date(Date.now() + 24 * 60 * MINUTE);
  const ended: GrantSpec = { ...spec, grantId: '00000000-0000-4000-8000-000000000003', expiresAt: new Date(brokerNow.getTime() - 60 * MINUTE) };

  function recordingBackend(): PimBackend & { actions: string[] } {
    const actions: string[] = [];
    return {
      ...refusingBackend(new Date(brokerNow.getTime() - 2 * 60 * MINUTE)),
      actions,
      submit: async (_ref, r) => {
        actions.push(r.action);
        return { id: 'r1', status: 'Provisioned' } as PimRequestView;
      },
    };
  }

  it('should remove the assignment, not hand it to an overlapping grant that has ended by the broker\'s clock', async () => {
    const backend = recordingBackend();
    const mechanism = new PimMechanism(backend, new AzureCallPolicy({ ...DEFAULT_RETRY, baseDelayMs: 1 }, undefined, () => brokerNow));
    await mechanism.revoke(spec, [ended]);
    expect(backend.actions).toEqual(['remove']);
  });

  it('should report a grant whose start is ahead of the broker\'s clock as pending', async () => {
    const backend: PimBackend = {
      ...refusingBackend(brokerNow),
      activeEnd: async () => undefined,
      requestsOf: async () => [{ id: 'r1', status: 'Provisioned' } as PimRequestView],
    };
    // Started an hour ago by the machine's clock, a minute from now by the broker's.
    const early: GrantSpec = { ...spec, startsAt: new Date(Date.now() - 60 * MINUTE) };
    const clockBehind = () => new Date(early.startsAt.getTime() - MINUTE);
    const mechanism = new PimMechanism(backend, new AzureCallPolicy({ ...DEFAULT_RETRY, baseDelayMs: 1 }, undefined, clockBehind));
    await expect(mechanism.status(early)).resolves.toMatchObject({ status: 'pending' });
  });
});
