import { Response } from 'express';
import { FieldIssue } from '@jit/domain';

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
