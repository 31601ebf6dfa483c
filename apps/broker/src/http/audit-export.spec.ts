import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditEvent } from '@jit/domain';
import { sendAuditExport, type AuditExportFormat } from './audit-export';

const PAGE = 200;

/** Pages of events as the audit store yields them, counting what the export asked for and whether it closed the iterator. */
class CountingPages implements AsyncIterable<AuditEvent[]> {
  pulled = 0;
  closed = false;

  constructor(
    private readonly pages: number,
    private readonly failAt?: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<AuditEvent[]> {
    try {
      for (let p = 0; p < this.pages; p++) {
        this.pulled += 1;
        if (p === this.failAt) throw new Error('database went away');
        yield Array.from({ length: PAGE }, (_, i) => event(p * PAGE + i + 1));
      }
    } finally {
      this.closed = true;
    }
  }
}

function event(seq: number): AuditEvent {
  return {
    seq,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    occurredAt: new Date(Date.UTC(2026, 0, 1) + seq * 1000),
    type: 'grant.requested',
    grantId: '11111111-2222-4333-8444-555555555555',
    cloud: 'aws',
    principal: `user:dev${seq % 50}@example.com`,
    actor: '=HYPERLINK("http://x")',
    data: { reason: `incident INC-${seq}: read the production logs, "quoted", with commas`, duration: 'PT1H' },
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
  };
}

/** Polls until `read()` gives the same value `times` times in a row, 50 ms apart. */
async function settled(read: () => number, times = 10): Promise<number> {
  let last = -1;
  let same = 0;
  while (same < times) {
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe(sendAuditExport.name, () => {
  let server: Server;
  let url: string;
  let source: CountingPages;
  let format: AuditExportFormat;
  let finished: Promise<void> | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      finished = sendAuditExport(source, format, res).catch((error: Error) => {
        res.statusCode = 503;
        res.end(`not started: ${error.message}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const request = () =>
    new Promise<IncomingMessage>((resolve, reject) => {
      get(url, resolve).on('error', reject);
    });
  const readAll = async (res: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  it.each(['jsonl', 'csv'] as const)('should stop reading pages while the client does not read (%s), then send them all in order', async (f) => {
    format = f;
    source = new CountingPages(400);
    const res = await request();
    res.pause();

    const whileStalled = await settled(() => source.pulled);
    const text = await readAll(res);
    await finished;

    // 400 pages are about 36 MB of output: a stalled client holds back all but what the socket buffers take.
    expect(whileStalled).toBeLessThan(150);
    expect(source.pulled).toBe(400);
    expect(source.closed).toBe(true);
    const lines = text.trimEnd().split('\n');
    if (f === 'jsonl') {
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(lines).toHaveLength(400 * PAGE);
      expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(Array.from({ length: 400 * PAGE }, (_, i) => i + 1));
    } else {
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(lines[0]).toBe('seq,id,occurredAt,type,grantId,cloud,principal,actor,data,prevHash,hash');
      expect(lines).toHaveLength(400 * PAGE + 1);
      expect(lines[1]).toMatch(/^1,00000000-0000-4000-8000-000000000001,2026-01-01T00:00:01.000Z,grant.requested,.*,"'=HYPERLINK\(""http:\/\/x""\)",/);
      expect(lines[400 * PAGE]).toMatch(new RegExp(`^${400 * PAGE},`));
    }
  });

  it.each(['jsonl', 'csv'] as const)('should stop and close the pages when the client goes away (%s)', async (f) => {
    format = f;
    source = new CountingPages(100_000);
    const res = await request();
    await new Promise((resolve) => res.once('data', resolve));

    res.destroy();
    await finished;

    expect(source.closed).toBe(true);
    expect(source.pulled).toBeLessThan(100_000);
  });

  it('should fail before sending anything when the first page cannot be read', async () => {
    format = 'jsonl';
    source = new CountingPages(10, 0);

    const res = await request();

    expect(res.statusCode).toBe(503);
    expect(await readAll(res)).toBe('not started: database went away');
  });

  it('should cut the response short, not end it cleanly, when a later page fails', async () => {
    format = 'jsonl';
    source = new CountingPages(10, 3);
    const res = await request();

    await expect(readAll(res)).rejects.toThrow(/aborted/);
    await finished;
    await until(() => source.closed);
    expect(res.statusCode).toBe(200);
  });
});
