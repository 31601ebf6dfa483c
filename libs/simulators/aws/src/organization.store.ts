import { randomBytes } from 'node:crypto';
import { DEFAULT_ACCOUNT_ID } from './iam.store';
import { JsonSimError } from './json-protocol.codec';

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
function lowerAlnum(n: number): string {
  return [...randomBytes(n)].map((b) => ALNUM[b % ALNUM.length]).join('');
}

export type AccountStatus = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';

export interface OrgAccount {
  id: string;
  name: string;
  email: string;
  status: AccountStatus;
  joinedMethod: 'INVITED' | 'CREATED';
  joinedAt: Date;
  parentId: string;
}

export interface OrgUnit {
  id: string;
  name: string;
  parentId: string;
}

/** What a test seeds for an account; the id defaults to a fresh 12-digit one. */
export interface AccountSeed {
  name: string;
  id?: string;
  email?: string;
  /** A root (`r-…`) or OU (`ou-…`) id; the root by default. */
  parentId?: string;
  status?: AccountStatus;
}

export const orgError = {
  notInUse: () => new JsonSimError('AWSOrganizationsNotInUseException', "Your account is not a member of an organization."),
  accountNotFound: () => new JsonSimError('AccountNotFoundException', "You specified an account that doesn't exist."),
  ouNotFound: () => new JsonSimError('OrganizationalUnitNotFoundException', "You specified an organizational unit that doesn't exist."),
  parentNotFound: () => new JsonSimError('ParentNotFoundException', "You specified a parent that doesn't exist."),
  childNotFound: () => new JsonSimError('ChildNotFoundException', "You specified a child that doesn't exist."),
  accessDenied: () => new JsonSimError('AccessDeniedException', "You don't have permissions to access this resource."),
};

/**
 * One AWS organization (all features): its management account (the simulator's default account,
 * where the broker's long-term key lives), one root, organizational units nested under it and the
 * member accounts, each in exactly one parent. Organizations is a global service: one state for
 * every region.
 */
export class OrganizationStore {
  readonly id = `o-${lowerAlnum(10)}`;
  readonly rootId = `r-${lowerAlnum(4)}`;
  readonly managementAccountId: string;
  readonly managementEmail: string;
  /** Accounts that may call the read APIs besides the management account (a delegated administrator). */
  readonly delegatedAdministrators = new Set<string>();
  /**
   * Read operations (`ListParents`...) whose first page is answered empty with a `NextToken`, as
   * AWS's paginated APIs may: a client that stops at the first page misses what follows.
   */
  readonly emptyFirstPages = new Set<string>();
  private readonly accounts = new Map<string, OrgAccount>();
  private readonly units = new Map<string, OrgUnit>();

  constructor(managementAccountId = DEFAULT_ACCOUNT_ID) {
    this.managementAccountId = managementAccountId;
    this.managementEmail = `aws-management+${managementAccountId}@example.com`;
    this.accounts.set(managementAccountId, {
      id: managementAccountId,
      name: 'management',
      email: this.managementEmail,
      status: 'ACTIVE',
      joinedMethod: 'CREATED',
      joinedAt: new Date(),
      parentId: this.rootId,
    });
  }

  get arn(): string {
    return `arn:aws:organizations::${this.managementAccountId}:organization/${this.id}`;
  }

  accountArn(id: string): string {
    return `arn:aws:organizations::${this.managementAccountId}:account/${this.id}/${id}`;
  }

  ouArn(id: string): string {
    return `arn:aws:organizations::${this.managementAccountId}:ou/${this.id}/${id}`;
  }

  rootArn(): string {
    return `arn:aws:organizations::${this.managementAccountId}:root/${this.id}/${this.rootId}`;
  }

  addAccount(seed: AccountSeed): OrgAccount {
    const id = seed.id ?? this.freshAccountId();
    if (!/^\d{12}$/.test(id)) throw new Error(`account id ${id} is not 12 digits`);
    if (this.accounts.has(id)) throw new Error(`account ${id} is already in the organization`);
    const parentId = seed.parentId ?? this.rootId;
    if (!this.isParent(parentId)) throw new Error(`no root or organizational unit ${parentId}`);
    const account: OrgAccount = {
      id,
      name: seed.name,
      email: seed.email ?? `aws+${id}@example.com`,
      status: seed.status ?? 'ACTIVE',
      joinedMethod: 'CREATED',
      joinedAt: new Date(),
      parentId,
    };
    this.accounts.set(id, account);
    return account;
  }

  addUnit(name: string, parentId: string = this.rootId, id?: string): OrgUnit {
    if (!this.isParent(parentId)) throw new Error(`no root or organizational unit ${parentId}`);
    if (id !== undefined && (!/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/.test(id) || this.units.has(id))) throw new Error(`${id} is not a new OU id (ou-<4-32>-<8-32>)`);
    if ([...this.units.values()].some((u) => u.parentId === parentId && u.name === name)) {
      throw new Error(`an organizational unit named ${name} already exists under ${parentId}`);
    }
    const unit: OrgUnit = { id: id ?? `ou-${this.rootId.slice(2)}-${lowerAlnum(8)}`, name, parentId };
    this.units.set(unit.id, unit);
    return unit;
  }

  /** Moves an account to another parent (as MoveAccount would). */
  moveAccount(accountId: string, parentId: string): void {
    const account = this.accounts.get(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    if (!this.isParent(parentId)) throw new Error(`no root or organizational unit ${parentId}`);
    account.parentId = parentId;
  }

  account(id: string): OrgAccount | undefined {
    return this.accounts.get(id);
  }

  unit(id: string): OrgUnit | undefined {
    return this.units.get(id);
  }

  isParent(id: string): boolean {
    return id === this.rootId || this.units.has(id);
  }

  /** Accounts in the order they joined (ListAccounts' order is unspecified; this one is stable for paging). */
  allAccounts(): OrgAccount[] {
    return [...this.accounts.values()];
  }

  accountsIn(parentId: string): OrgAccount[] {
    return this.allAccounts().filter((a) => a.parentId === parentId);
  }

  unitsIn(parentId: string): OrgUnit[] {
    return [...this.units.values()].filter((u) => u.parentId === parentId);
  }

  private freshAccountId(): string {
    for (;;) {
      const id = String(100_000_000_000 + (randomBytes(6).readUIntBE(0, 6) % 900_000_000_000));
      if (!this.accounts.has(id)) return id;
    }
  }
}
