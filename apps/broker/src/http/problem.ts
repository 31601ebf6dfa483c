import { Response } from 'express';
import { z } from 'zod';
import { FieldIssue } from '@jit/domain';

/** An RFC 7807 problem as the broker sends it (`application/problem+json`); extensions such as `decision`, `grantId` or `limit` may follow. */
export const problemSchema = z
  .looseObject({
    type: z
      .string()
      .describe(
        'urn:jit-broker:problem:<code>, stable: switch on it. Codes: validation, malformed_json, unsupported_media_type, payload_too_large, provider_disabled (400, 415, 413); ' +
          'unauthenticated (401); forbidden, policy_denied (403); not_found (404); invalid_state, idempotency_conflict (409); limit_exceeded (422); rate_limited (429); ' +
          'internal (500, with errorId); provider_rejected (502); provider_unavailable, store_unavailable (503); http_<status> for other refusals of the framework',
      ),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().describe('for people; do not parse'),
    errors: z
      .array(z.object({ field: z.string().describe('the field, header or query parameter at fault, e.g. target.kind, Idempotency-Key'), message: z.string() }).meta({ id: 'FieldIssue' }))
      .optional()
      .describe('each input at fault, by name'),
    errorId: z.string().optional().describe('500 only: quote it to the operators, who find it in the logs'),
  })
  .meta({ id: 'Problem', description: 'RFC 7807 problem details' });

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldIssue[];
  [extension: string]: unknown;
}

/** Problem type URIs are stable; clients switch on them, not on `detail`. */
export const problemType = (code: string) => `urn:jit-broker:problem:${code}`;

export function sendProblem(res: Response, problem: Problem, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}
