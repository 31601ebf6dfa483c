import { GcpSimulator } from '@jit/sim-gcp';

/**
 * Issue 10, point 1: Google accounts and groups have ASCII emails, so the Resource Manager
 * simulator refuses, as the service does, a binding whose member email has any other character,
 * including the U+FFFD a lone surrogate becomes on the wire.
 */
describe('GCP simulator: member character set', () => {
  let sim: GcpSimulator;
  beforeAll(async () => {
    sim = await GcpSimulator.start({ port: 0, token: 'charset-token' });
    sim.createProject('charset-proj');
  });
  afterAll(() => sim.close());

  const call = async (verb: 'getIamPolicy' | 'setIamPolicy', body: unknown) => {
    const res = await fetch(`${sim.endpoint}/v3/projects/charset-proj:${verb}`, {
      method: 'POST',
      headers: { authorization: 'Bearer charset-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { etag?: string; error?: { status: string; message: string } } };
  };
  const setMember = async (member: string) => {
    const { body: policy } = await call('getIamPolicy', { options: { requestedPolicyVersion: 3 } });
    return call('setIamPolicy', { policy: { version: 3, etag: policy.etag, bindings: [{ role: 'roles/storage.objectViewer', members: [member] }] } });
  };

  it.each(['user:josé@example.com', 'group:ops@exämple.com', 'serviceAccount:ci@proj.iam.gserviceaccount.c\u00f6m', 'user:\ufffd@x.com'])(
    'should refuse %s as an invalid principal',
    async (member) => {
      const res = await setMember(member);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ status: 'INVALID_ARGUMENT' });
      expect(res.body.error!.message).toMatch(/Invalid principal/);
    },
  );

  it('should accept an ASCII member (the control)', async () => {
    expect((await setMember("user:o'neil+ci@example.com")).status).toBe(200);
  });
});
