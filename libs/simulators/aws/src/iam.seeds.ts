import { AwsSimError } from './aws-sim.error';
import { IamEntity, IamStore } from './iam.store';

type Document = string | object;
const text = (d: Document) => (typeof d === 'string' ? d : JSON.stringify(d));

/**
 * Seeding and inspection of standing access for tests and the sandbox (not AWS APIs): groups,
 * managed policies and attachments, inline policies, and the last-use data IAM records by itself
 * (`RoleLastUsed`, `PasswordLastUsed`, access advisor's last authenticated time per service).
 */
export class IamSeeds {
  constructor(private readonly iam: IamStore) {}

  /** Seeds a group; returns its ARN. */
  createGroup(name: string, options: { accountId?: string; path?: string } = {}): string {
    return this.iam.create('group', name, options).arn;
  }

  addToGroup(userArn: string, groupArn: string): void {
    const user = this.entity(userArn);
    this.iam.addToGroup(user.accountId, this.entity(groupArn).name, user.name);
  }

  /** A customer managed policy in the account; returns its ARN. */
  createPolicy(name: string, document: Document, options: { accountId?: string; path?: string; description?: string } = {}): string {
    return this.iam.managed.create(options.accountId ?? '123456789012', name, text(document), options.path ?? '/', options.description).arn;
  }

  /** Attaches a managed policy (`arn:aws:iam::aws:policy/AdministratorAccess` or a created one) to a role, user or group. */
  attachPolicy(principalArn: string, policyArn: string): void {
    this.iam.managed.attach(this.entity(principalArn), policyArn);
  }

  putInlinePolicy(principalArn: string, policyName: string, document: Document): void {
    const e = this.entity(principalArn);
    this.iam.putPolicy(e.kind, e.accountId, e.name, policyName, text(document));
  }

  setRoleLastUsed(roleArn: string, date: Date, region = 'us-east-1'): void {
    this.entity(roleArn).lastUsed = { date, region };
  }

  setPasswordLastUsed(userArn: string, date: Date): void {
    this.entity(userArn).passwordLastUsed = date;
  }

  /** The principal last authenticated to `namespace` (e.g. `s3`) at `date`, as access advisor reports it. */
  setServiceLastAccessed(principalArn: string, namespace: string, date: Date, region = 'us-east-1'): void {
    this.entity(principalArn);
    this.iam.advisor.record(principalArn, namespace, date, region);
  }

  /** How many polls of a new access-advisor job answer IN_PROGRESS before it completes (default 1). */
  setAccessAdvisorPendingPolls(count: number): void {
    this.iam.advisor.pendingPolls = count;
  }

  attachedPolicies(principalArn: string): string[] {
    return [...this.entity(principalArn).attached];
  }

  groupsOf(userArn: string): string[] {
    return [...this.entity(userArn).groups];
  }

  /**
   * Deletes a user, role or group as IAM would once its policies and memberships are gone (the
   * test of a principal deleted, or deleted and recreated under the same name with a new id).
   */
  deleteEntity(arn: string): void {
    const e = this.entity(arn);
    if (e.kind === 'group') for (const u of this.iam.membersOf(e)) this.iam.removeFromGroup(u.accountId, e.name, u.name);
    this.iam.remove(e.kind, e.accountId, e.name);
  }

  private entity(arn: string): IamEntity {
    const e = this.iam.byArn(arn);
    if (!e) throw AwsSimError.noSuchEntity(`No role, user or group ${arn}`);
    return e;
  }
}
