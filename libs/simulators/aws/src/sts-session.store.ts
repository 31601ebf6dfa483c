import { randomBytes } from 'node:crypto';
import { PolicyDocument } from './policy.types';

/** One set of temporary credentials issued by `AssumeRole`. */
export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  roleName: string;
  accountId: string;
  /** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` */
  assumedRoleArn: string;
  /** `AROA…:SESSION`, the value of `aws:userid`. */
  userId: string;
  sourceIdentity?: string;
  issuedAt: Date;
  expiration: Date;
  sessionPolicy?: PolicyDocument;
}

function token(length: number, alphabet: string): string {
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function newAccessKeyId(): string {
  return 'ASIA' + token(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
}

export function newSecret(): string {
  return token(40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
}

export function newSessionToken(): string {
  return 'IQoJb3JpZ2luX2Vj' + randomBytes(96).toString('base64');
}

export class StsSessionStore {
  private readonly byKey = new Map<string, StsSession>();

  add(session: StsSession): void {
    this.byKey.set(session.accessKeyId, session);
  }

  byAccessKey(accessKeyId: string): StsSession | undefined {
    return this.byKey.get(accessKeyId);
  }

  byAssumedRoleArn(arn: string): StsSession[] {
    return [...this.byKey.values()].filter((s) => s.assumedRoleArn === arn);
  }
}
