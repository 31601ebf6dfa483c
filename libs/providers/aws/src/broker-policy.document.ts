import { isBrokerSid } from './aws-artifact.naming';

export type Condition = Record<string, Record<string, string | string[]>>;

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Condition;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

export const POLICY_VERSION = '2012-10-17';

/**
 * Aggregate inline policy size per entity, whitespace not counted (IAM quotas; cloud-apis.md B1).
 * The broker policy shares it with whatever inline policies the customer already has.
 */
export const INLINE_BUDGET = { role: 10_240, user: 2_048 } as const;

/** IAM's measure: characters of the document without whitespace. */
export function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

export function serialize(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}

/**
 * IAM timestamps in whole seconds: `2026-05-01T12:00:00Z`. Rounded down, so a cloud-side
 * deadline (`DateLessThan aws:CurrentTime`) is never later than the `expiresAt` it encodes.
 */
export function isoSeconds(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * `GetRolePolicy` returns the document URL-encoded (RFC 3986) and aws-sdk-js-v3 hands it over
 * as is; a document that already starts with `{` came from a service or SDK that decoded it.
 */
export function decodePolicyText(text: string): string {
  return text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
}

export function parseBrokerPolicy(text: string): PolicyDocument {
  const raw = JSON.parse(decodePolicyText(text)) as { Statement?: Statement | Statement[] };
  const statements = raw.Statement === undefined ? [] : Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement];
  return { Version: POLICY_VERSION, Statement: statements };
}

/** The instant after which a statement can no longer apply (its `DateLessThan aws:CurrentTime`). */
export function statementDeadline(s: Statement): number | undefined {
  const value = s.Condition?.DateLessThan?.['aws:CurrentTime'];
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A broker statement past its deadline grants (or denies) nothing and only costs budget. */
export function isSpent(s: Statement, now: Date): boolean {
  const deadline = statementDeadline(s);
  return isBrokerSid(s.Sid) && deadline !== undefined && deadline <= now.getTime();
}

/**
 * A statement the broker wrote: a broker Sid and a `DateLessThan aws:CurrentTime` deadline (every
 * grant and session deny carries one). Anything else in the broker policy was put there by someone
 * else, and a Sid alone is no proof: anyone who can write the policy can copy one.
 */
export function isBrokerStatement(s: Statement): boolean {
  return isBrokerSid(s.Sid) && typeof s.Condition?.DateLessThan?.['aws:CurrentTime'] === 'string';
}

/** The statements of the broker policy the broker did not write (see `isBrokerStatement`). */
export function foreignStatements(doc: PolicyDocument): Statement[] {
  return doc.Statement.filter((s) => !isBrokerStatement(s));
}

/**
 * Replaces the statement with the same Sid (a retried grant is one grant) and drops spent ones,
 * and drops foreign statements: the broker owns this policy name on its users and roles, so a
 * statement planted in it does not ride along with the broker's next write.
 */
export function withStatement(doc: PolicyDocument, statement: Statement, now: Date): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [...doc.Statement.filter((s) => isBrokerStatement(s) && s.Sid !== statement.Sid && !isSpent(s, now)), statement],
  };
}

export function withoutStatement(doc: PolicyDocument, sid: string, now: Date): PolicyDocument {
  return { Version: POLICY_VERSION, Statement: doc.Statement.filter((s) => isBrokerStatement(s) && s.Sid !== sid && !isSpent(s, now)) };
}

/** One value or a list: a single action or resource is written as a string to save budget. */
export function oneOrMany(values: readonly string[]): string | string[] {
  return values.length === 1 ? values[0] : [...values];
}
