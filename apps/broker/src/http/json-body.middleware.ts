import { NextFunction, Request, Response, json } from 'express';
import { problemType, sendProblem } from './problem';

/**
 * Parses JSON bodies itself so that every body error is a problem response naming the field:
 * wrong Content-Type (415), too large (413), malformed JSON (400).
 */
export function jsonBodyMiddleware(limitBytes: number) {
  const parse = json({ limit: limitBytes, strict: true, type: () => true });
  return (req: Request, res: Response, next: NextFunction) => {
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
      if (!err) return next();
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
