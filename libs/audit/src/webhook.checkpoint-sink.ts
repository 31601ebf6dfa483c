import { AuditCheckpoint } from '@jit/domain';
import { checkpointToJson } from './audit-checkpoint';
import { CheckpointSink } from './checkpoint.sink';

/** Upper bound on one delivery; a slow receiver is retried at the next checkpoint tick. */
const TIMEOUT_MS = 10_000;

/**
 * POSTs each checkpoint as JSON (`{"type":"audit.checkpoint","checkpoint":{…},"publicKey":"…"}`) to
 * a receiver outside the database (a log service, a transparency log, another team's store). Any
 * 2xx is taken; the signature authenticates the content, so the body carries no secret.
 */
export class WebhookCheckpointSink implements CheckpointSink {
  readonly name: string;

  constructor(
    private readonly url: string,
    private readonly publicKeyPem: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    // The origin only: a token in the path or query must not reach logs or the database.
    this.name = `webhook:${new URL(url).origin}`;
  }

  async publish(checkpoint: AuditCheckpoint): Promise<void> {
    const res = await this.fetchFn(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'audit.checkpoint', checkpoint: checkpointToJson(checkpoint), publicKey: this.publicKeyPem }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`${this.name} answered ${res.status}`);
  }
}
