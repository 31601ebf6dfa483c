import { NextFunction, Request, Response, json } from 'express';
import { problemType, sendProblem } from './problem';

/** PostgreSQL text and jsonb cannot hold U+0000; the path of the first string (or key) that does, if any. */
function nulPath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const field = path ? `${path}.${k}` : k;
      if (k.includes('\u0000')) return field;
      const found = nulPath(v, field);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Parses JSON bodies itself so that every body error is a problem response naming the field:
 * wrong Content-Type (415), too large (413), malformed JSON (400), and a NUL character in
 * the body or the query (400), which PostgreSQL cannot store or compare.
 */
export function jsonBodyMiddleware(limitBytes: number) {
  const parse = json({ limit: limitBytes, strict: true, type: () => true });
  const refuseNul = (res: Response, field: string) =>
    sendProblem(res, {
      type: problemType('validation'),
      title: 'Invalid request',
      status: 400,
      detail: `${field}: must not contain the NUL character`,
      errors: [{ field, message: 'must not contain the NUL character (U+0000)' }],
    });
  return (req: Request, res: Response, next: NextFunction) => {
    const inQuery = nulPath(req.query, '');
    if (inQuery) return refuseNul(res, inQuery);
    const length = req.headers['content-length'];
    const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return next();
    if (!req.is('application/json')) {
      return sendProblem(res, {
        type: problemType('unsupported_media_type'),
        title: 'Unsupported media type',
        status: 415,
        detail: 'request bodies must be application/json',
        errors: [{ field: 'Content-Type', message: 'must be application/json' }],
      });
    }
    parse(req, res, (err?: { type?: string; message?: string }) => {
      if (!err) {
        const field = nulPath(req.body, '');
        return field === null ? next() : refuseNul(res, field || '(body)');
      }
      if (err.type === 'entity.too.large') {
        return sendProblem(res, {
          type: problemType('payload_too_large'),
          title: 'Payload too large',
          status: 413,
          detail: `request bodies are limited to ${limitBytes} bytes (JIT_BODY_LIMIT)`,
          errors: [{ field: '(body)', message: `larger than ${limitBytes} bytes` }],
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
