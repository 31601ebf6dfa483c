import { Server } from 'node:http';
import { Socket } from 'node:net';
import { problemType } from './problem';

/** Node's parser codes for requests it refuses before the app sees them, and the status each deserves. */
const REFUSALS: Record<string, { status: number; reason: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    detail: 'the request headers are larger than the server accepts (16 KiB in all, Node\'s --max-http-header-size)',
  },
};

/**
 * Answers requests that Node's HTTP parser refuses (headers too large, malformed request lines)
 * with a problem document like every other refusal, instead of a bare status line; then closes.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // As Node's own handler: answer only if nothing was written on this connection yet.
    if (!socket.writable || socket.bytesWritten !== 0) {
      socket.destroy();
      return;
    }
    const known = err.code ? REFUSALS[err.code] : undefined;
    const { status, reason, detail } = known ?? { status: 400, reason: 'Bad Request', detail: 'the request could not be parsed as HTTP/1.1' };
    const body = JSON.stringify({
      type: problemType(status === 431 ? 'headers_too_large' : 'malformed_request'),
      title: reason,
      status,
      detail,
      errors: [{ field: status === 431 ? '(headers)' : '(request)', message: detail }],
    });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
