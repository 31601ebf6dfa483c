import { isUtf8 } from 'node:buffer';
import { NextFunction, Request, Response, json } from 'express';
import { FieldIssue, isWellFormed, unstorableValue } from '@jit/domain';
import { problemType, sendProblem } from './problem';

/**
 * Deeper nesting than any request body or query of the API needs; checked before anything
 * recursive (schemas, canonical JSON) walks the value, so a 64 KiB body of `[[[[...` is a 400.
 */
const MAX_DEPTH = 32;
/** The request headers the broker reads, by the name a problem response gives them. */
const READ_HEADERS = ['Authorization', 'Idempotency-Key'];

const NOT_UTF8 = 'must be well-formed UTF-8';

/** Percent-encoding that does not decode to UTF-8 (`%ED%A0%80` is an encoded surrogate) would be read as U+FFFD and match nothing. */
function queryIssue(url: string): FieldIssue | null {
  const at = url.indexOf('?');
  if (at < 0) return null;
  for (const part of url.slice(at + 1).split('&')) {
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const key = strictDecode(rawKey);
    if (key === null) return { field: rawKey, message: NOT_UTF8 };
    if (eq >= 0 && strictDecode(part.slice(eq + 1)) === null) return { field: key, message: NOT_UTF8 };
  }
  return null;
}

function strictDecode(component: string): string | null {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** RFC 8259: JSON between systems is UTF-8; body-parser would also decode UTF-16 and UTF-32. */
function isUtf8Charset(contentType: string | undefined): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

/** Node reads header bytes as Latin-1; their UTF-8 reading must be well-formed too, or no token or key can be meant. */
function headerIssue(req: Request): FieldIssue | null {
  for (const name of READ_HEADERS) {
    const value = req.headers[name.toLowerCase()];
    if (typeof value !== 'string') continue;
    if (!isWellFormed(value) || !isUtf8(Buffer.from(value, 'latin1'))) return { field: name, message: NOT_UTF8 };
  }
  return null;
}

/**
 * Parses JSON bodies itself so that every body error is a problem response naming the field:
 * wrong Content-Type (415), too large (413), malformed JSON or bytes that are not UTF-8 (400),
 * and in the body, the query or a header the broker reads, text PostgreSQL cannot store as
 * it is (400): the NUL character and lone surrogates, which would break the audit chain.
 */
export function jsonBodyMiddleware(limitBytes: number) {
  const parse = json({
    limit: limitBytes,
    strict: true,
    type: () => true,
    // body-parser would decode invalid bytes as U+FFFD; RFC 8259 JSON is UTF-8.
    verify: (_req, _res, buf) => {
      if (!isUtf8(buf)) throw new Error('the body is not well-formed UTF-8');
    },
  });
  const refuse = (res: Response, issue: FieldIssue) =>
    sendProblem(res, {
      type: problemType('validation'),
      title: 'Invalid request',
      status: 400,
      detail: `${issue.field}: ${issue.message}`,
      errors: [issue],
    });
  return (req: Request, res: Response, next: NextFunction) => {
    const early = headerIssue(req) ?? queryIssue(req.originalUrl ?? req.url) ?? unstorableValue(req.query, MAX_DEPTH);
    if (early) return refuse(res, early);
    const length = req.headers['content-length'];
    const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return next();
    if (!req.is('application/json') || !isUtf8Charset(req.headers['content-type'])) {
      return sendProblem(res, {
        type: problemType('unsupported_media_type'),
        title: 'Unsupported media type',
        status: 415,
        detail: 'request bodies must be application/json in UTF-8',
        errors: [{ field: 'Content-Type', message: 'must be application/json (charset utf-8 if any)' }],
      });
    }
    parse(req, res, (err?: { type?: string; message?: string }) => {
      if (!err) {
        const issue = unstorableValue(req.body, MAX_DEPTH);
        return issue === null ? next() : refuse(res, issue);
      }
      if (err.type === 'entity.verify.failed') return refuse(res, { field: '(body)', message: NOT_UTF8 });
      if (err.type === 'entity.too.large') {
        return sendProblem(res, {
          type: problemType('payload_too_large'),
          title: 'Payload too large',
          status: 413,
          detail: `request bodies are limited to ${limitBytes} bytes (JIT_BODY_LIMIT)`,
          errors: [{ field: '(body)', message: `larger than ${limitBytes} bytes` }],
        });
      }
      if (err.type === 'encoding.unsupported') {
        return sendProblem(res, {
          type: problemType('unsupported_media_type'),
          title: 'Unsupported media type',
          status: 415,
          detail: 'request bodies may be sent as they are or gzip, deflate or br encoded',
          errors: [{ field: 'Content-Encoding', message: 'must be identity, gzip, deflate or br' }],
        });
      }
      sendProblem(res, {
        type: problemType('malformed_json'),
        title: 'Malformed JSON',
        status: 400,
        detail: `the body is not valid JSON: ${err.message ?? 'parse error'}`.slice(0, 300),
        errors: [{ field: '(body)', message: 'is not valid JSON' }],
      });
    });
  };
}
