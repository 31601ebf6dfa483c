import { STSClient } from '@aws-sdk/client-sts';
import { ProviderError } from '@jit/domain';
import { CallRunner } from './inline-policy.client';
import { MEMBER_MIN_LEFT_MS, MEMBER_REFRESH_MARGIN_MS, MemberAccountCredentials } from './member-account.credentials';

const ROLE = 'arn:aws:iam::111111111111:role/JitBrokerMember';

function fakeSts(lifetimeMs: number, now: () => Date) {
  const calls: Record<string, unknown>[] = [];
  const sts = {
    send: async (command: { input: Record<string, unknown> }) => {
      calls.push(command.input);
      return { Credentials: { AccessKeyId: `ASIA${calls.length}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now().getTime() + lifetimeMs) } };
    },
  } as unknown as STSClient;
  return { sts, calls };
}

const direct: CallRunner = (_operation, call) => call(new AbortController().signal);

describe(MemberAccountCredentials.name, () => {
  describe('provide', () => {
    it('should assume the member role once, and again only within the refresh margin of expiry', async () => {
      let at = new Date('2026-05-01T12:00:00Z');
      const { sts, calls } = fakeSts(3_600_000, () => at);
      const creds = new MemberAccountCredentials(ROLE, sts, direct, () => at);
      const [a, b] = await Promise.all([creds.provide(), creds.provide()]);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toEqual({ RoleArn: ROLE, RoleSessionName: 'jit-broker', DurationSeconds: 3600 });
      expect(b).toBe(a);
      at = new Date(at.getTime() + 3_600_000 - MEMBER_REFRESH_MARGIN_MS - 1);
      expect((await creds.provide()).accessKeyId).toBe('ASIA1');
      at = new Date(at.getTime() + 2);
      expect((await creds.provide()).accessKeyId).toBe('ASIA2');
      expect(calls).toHaveLength(2);
    });

    it('should keep using the held session when its renewal fails inside the margin, and fail once it is nearly spent', async () => {
      let at = new Date('2026-05-01T12:00:00Z');
      let failing = false;
      const run: CallRunner = (_operation, call) => (failing ? Promise.reject(new ProviderError('transient', 'Throttling')) : call(new AbortController().signal));
      const { sts } = fakeSts(3_600_000, () => at);
      const creds = new MemberAccountCredentials(ROLE, sts, run, () => at);
      const held = await creds.provide();
      failing = true;
      at = new Date(at.getTime() + 3_600_000 - MEMBER_REFRESH_MARGIN_MS + 1);
      expect(await creds.provide()).toBe(held);
      at = new Date(held.expiration.getTime() - MEMBER_MIN_LEFT_MS);
      await expect(creds.provide()).rejects.toThrow('Throttling');
    });

    it('should name the member role when STS refuses the broker', async () => {
      const denied = new ProviderError('terminal', 'AssumeRole: AccessDenied: not authorized', { code: 'AccessDenied', cause: { name: 'AccessDenied' } });
      const creds = new MemberAccountCredentials(ROLE, {} as STSClient, () => Promise.reject(denied), () => new Date());
      await expect(creds.provide()).rejects.toThrow(`the broker may not assume its member role ${ROLE}`);
    });
  });
});
