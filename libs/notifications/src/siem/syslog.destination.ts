import { isIP } from 'node:net';
import { setTimeout as setTimeoutPromise } from 'node:timers/promises';
import { connect, TLSSocket } from 'node:tls';
import { AuditEvent } from '@jit/domain';
import { RelayAttempt } from '../audit-relay';
import { OcsfOptions, toOcsf } from './ocsf.mapper';
import { SiemDestination } from './siem-destination';
import { SyslogConfig } from './siem.config';

/** Upper bound on connecting (TLS handshake included) and writing one batch. */
export const SYSLOG_TIMEOUT_MS = 15_000;
/** How long a new connection must stay up after the handshake before a batch is written into it (a TLS 1.3 refusal arrives in that time). */
export const SYSLOG_SETTLE_MS = 200;

/** RFC 5424 severity from the OCSF one: 6 informational, 5 notice (medium), 4 warning (high). */
const SYSLOG_SEVERITY: Record<number, number> = { 1: 6, 3: 5, 4: 4 };

/** An SD-PARAM value: `"`, `\` and `]` escaped (RFC 5424 section 6.3.3). */
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/**
 * One audit event as an RFC 5424 message: MSGID the event type, structured data `[<sdId> seq hash
 * prevHash eventId]` so a receiver can check the chain without parsing the body, and the OCSF
 * record as MSG (JSON, UTF-8, without a BOM: MSG-ANY).
 */
export function syslogMessage(e: AuditEvent, c: Pick<SyslogConfig, 'facility' | 'hostname' | 'appName' | 'sdId'>, ocsf: OcsfOptions = {}): string {
  const record = toOcsf(e, ocsf);
  const pri = c.facility * 8 + (SYSLOG_SEVERITY[record.severity_id] ?? 6);
  const sd = `[${c.sdId} seq="${e.seq}" hash="${paramValue(e.hash)}" prevHash="${paramValue(e.prevHash)}" eventId="${paramValue(e.id)}"]`;
  return `<${pri}>1 ${e.occurredAt.toISOString()} ${c.hostname} ${c.appName} - ${e.type} ${sd} ${JSON.stringify(record)}`;
}

/** RFC 5425 (and RFC 6587 section 3.4.1) octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * Syslog over TLS (RFC 5425) to a SIEM's collector, on one connection kept open between batches.
 * A batch counts as delivered once TLS has taken every byte of it; syslog has no acknowledgement,
 * so a batch written into a connection the server is dropping can be lost in flight (RELP or an
 * HTTP collector close that gap). Any error drops the connection and the batch is sent again on a
 * new one.
 *
 * Written here rather than taken from npm: `syslog-client`, the most used client, ends each
 * message with a newline (RFC 6587's non-transparent framing) where RFC 5425 requires the octet
 * count, and builds no structured data; what is needed is a length and a space before one line
 * of template, and a callback once TLS has taken the bytes (or failed), so the cursor moves only
 * then.
 */
export class SyslogDestination extends SiemDestination<SyslogConfig> {
  readonly timeoutMs = SYSLOG_TIMEOUT_MS;
  private socket: TLSSocket | null = null;

  async send(events: readonly AuditEvent[], _attempt: number, signal: AbortSignal): Promise<RelayAttempt> {
    const frames = Buffer.concat(events.map((e) => octetFrame(syslogMessage(e, this.config, this.ocsf))));
    try {
      const socket = this.socket ?? (await this.connect(signal));
      await write(socket, frames, signal);
      return { ok: true };
    } catch (e) {
      this.drop();
      const err = e as { name?: string; code?: unknown };
      const reason =
        err?.name === 'TimeoutError' || err?.name === 'AbortError'
          ? `no answer within ${this.timeoutMs} ms`
          : typeof err?.code === 'string'
            ? `TLS error (${err.code})`
            : `TLS error (${e instanceof Error ? e.message : String(e)})`;
      return { ok: false, retryable: true, reason };
    }
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 1_000).unref();
    });
  }

  private drop(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(signal: AbortSignal): Promise<TLSSocket> {
    const c = this.config;
    return new Promise((resolve, reject) => {
      // SNI takes a host name only (RFC 6066); an IP address is checked against the certificate's IP entries.
      const socket = connect({ host: c.host, port: c.port, ...(!isIP(c.servername) && { servername: c.servername }), ...(c.ca && { ca: c.ca }), ...c.clientCert });
      const fail = (e: unknown) => {
        signal.removeEventListener('abort', abort);
        socket.destroy();
        reject(e instanceof Error ? e : new Error(String(e)));
      };
      const abort = () => fail(signal.reason);
      signal.addEventListener('abort', abort, { once: true });
      socket.once('error', fail);
      const closed = () => fail(new Error('connection closed by the collector'));
      socket.once('close', closed);
      // Under TLS 1.3 the collector judges our certificate after the handshake has ended on this
      // side: a refusal comes as an alert just after secureConnect. Waiting for it once per
      // connection keeps a first batch from being written into a connection already refused.
      socket.once('secureConnect', () => void setTimeoutPromise(SYSLOG_SETTLE_MS).then(settled));
      socket.resume();
      const settled = () => {
        if (socket.destroyed) return;
        signal.removeEventListener('abort', abort);
        socket.off('error', fail);
        socket.off('close', closed);
        // Whatever ends the connection later makes the next batch open a new one.
        const forget = () => {
          if (this.socket === socket) this.socket = null;
        };
        socket.on('error', forget);
        socket.on('close', forget);
        socket.on('end', forget);
        this.socket = socket;
        resolve(socket);
      };
    });
  }
}

function write(socket: TLSSocket, data: Buffer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || !socket.writable) {
      reject(new Error('connection closed'));
      return;
    }
    const abort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', abort, { once: true });
    socket.write(data, (e) => {
      signal.removeEventListener('abort', abort);
      if (e) reject(e);
      else resolve();
    });
  });
}
