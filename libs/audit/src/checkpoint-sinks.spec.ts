import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointSigner, checkpointToJson } from './audit-checkpoint';
import { JsonlFileCheckpointSink } from './jsonl-file.checkpoint-sink';
import { WebhookCheckpointSink } from './webhook.checkpoint-sink';

const signer = CheckpointSigner.fromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'k.pem');
const cp = (seq: number) => signer.sign(seq, String(seq).padStart(64, '0'), new Date('2026-12-05T00:00:00Z'));

describe(JsonlFileCheckpointSink.name, () => {
  it('should append one JSON line per checkpoint, not world-readable, and read them back', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jit-sink-')), 'checkpoints.jsonl');
    const sink = new JsonlFileCheckpointSink(file);
    expect(await sink.readBack()).toEqual({ checkpoints: [], unreadable: 0 });
    await sink.publish(cp(1000));
    await sink.publish(cp(2000));
    expect(readFileSync(file, 'utf8').split('\n')).toEqual([JSON.stringify(checkpointToJson(cp(1000))), JSON.stringify(checkpointToJson(cp(2000))), '']);
    expect(statSync(file).mode & 0o007).toBe(0);
    expect(sink.name).toBe(`file:${file}`);
    expect((await sink.readBack()).checkpoints.map((c) => c.seq)).toEqual([1000, 2000]);
  });

  it('should count a line cut short by a crash as unreadable, and start the next checkpoint on a line of its own', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jit-sink-')), 'checkpoints.jsonl');
    const sink = new JsonlFileCheckpointSink(file);
    await sink.publish(cp(1));
    appendFileSync(file, '{"seq":2,"hash":"00');
    await sink.publish(cp(3));
    const read = await sink.readBack();
    expect(read.unreadable).toBe(1);
    expect(read.checkpoints.map((c) => c.seq)).toEqual([1, 3]);
  });
});

describe(WebhookCheckpointSink.name, () => {
  it('should POST the checkpoint and the public key as JSON, name only the origin, and throw on a non-2xx', async () => {
    const bodies: unknown[] = [];
    let status = 204;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        bodies.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) });
        res.statusCode = status;
        res.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const sink = new WebhookCheckpointSink(`http://127.0.0.1:${port}/hooks/audit?token=s3cret`, signer.publicKeyPem);
      expect(sink.name).toBe(`webhook:http://127.0.0.1:${port}`);
      await sink.publish(cp(7));
      expect(bodies).toEqual([
        { method: 'POST', type: 'application/json', body: { type: 'audit.checkpoint', checkpoint: checkpointToJson(cp(7)), publicKey: signer.publicKeyPem } },
      ]);
      status = 503;
      await expect(sink.publish(cp(8))).rejects.toThrow(`webhook:http://127.0.0.1:${port} answered 503`);
    } finally {
      server.close();
    }
  });
});
