import { randomBytes } from 'node:crypto';
import { GoogleApiError } from './google-api.error';

/** `Membership.type` (the discovery document's enum). */
export type MembershipType = 'USER' | 'SERVICE_ACCOUNT' | 'GROUP' | 'SHARED_DRIVE' | 'OTHER';
export type RoleName = 'OWNER' | 'MANAGER' | 'MEMBER';

export interface StoredRole {
  name: RoleName;
  /** Only on `MEMBER` (MembershipRole.expiryDetail). */
  expireTime?: Date;
}

export interface StoredMembership {
  name: string;
  memberId: string;
  type: MembershipType;
  roles: StoredRole[];
  createTime: Date;
  updateTime: Date;
}

export interface StoredGroup {
  name: string;
  email: string;
  displayName: string;
  /** The customer's edition offers membership expiration (Workspace Enterprise, Cloud Identity Premium). */
  expirySupported: boolean;
  memberships: Map<string, StoredMembership>;
  createTime: Date;
}

export interface GroupSeed {
  displayName?: string;
  /** False models a customer whose edition has no membership expiration. Default true. */
  expirySupported?: boolean;
  members?: Array<{ email: string; roles?: RoleName[]; expireTime?: Date }>;
}

/** A membership as the v1 REST API returns it. */
export interface MembershipJson {
  name: string;
  preferredMemberKey: { id: string };
  roles: Array<{ name: RoleName; expiryDetail?: { expireTime: string } }>;
  type: MembershipType;
  createTime?: string;
  updateTime?: string;
}

const ROLE_ORDER: RoleName[] = ['OWNER', 'MANAGER', 'MEMBER'];

/**
 * Cloud Identity groups and their memberships, with the `MEMBER` role's expiry enforced by the
 * simulator's clock: a membership whose expiry has passed is gone, from lookups, gets and lists
 * alike, as Cloud Identity removes it.
 */
export class CloudIdentityStore {
  private readonly groups = new Map<string, StoredGroup>();
  private readonly byEmail = new Map<string, StoredGroup>();
  private now: () => Date = () => new Date();

  /** The clock expiry is judged by (a test moves it forward). */
  setClock(now: () => Date): void {
    this.now = now;
  }

  clock(): Date {
    return this.now();
  }

  /** Creates a Google group (`groups/<id>`); returns its resource name. */
  createGroup(email: string, seed: GroupSeed = {}): string {
    const key = email.toLowerCase();
    if (this.byEmail.has(key)) throw new Error(`group ${email} already exists`);
    const group: StoredGroup = {
      name: `groups/${randomBytes(7).toString('hex').slice(0, 13)}`,
      email: key,
      displayName: seed.displayName ?? key.split('@')[0],
      expirySupported: seed.expirySupported ?? true,
      memberships: new Map(),
      createTime: this.now(),
    };
    this.groups.set(group.name, group);
    this.byEmail.set(key, group);
    for (const m of seed.members ?? []) {
      this.insert(group, m.email, [...new Set<RoleName>(['MEMBER', ...(m.roles ?? [])])].map((name) => (name === 'MEMBER' && m.expireTime ? { name, expireTime: m.expireTime } : { name })));
    }
    return group.name;
  }

  /** Another client (an admin in the console) adds or changes a membership directly. */
  putMember(groupEmail: string, email: string, expireTime?: Date): void {
    const group = this.groupByEmail(groupEmail);
    const existing = this.find(group, email);
    if (existing) group.memberships.delete(existing.name.split('/').pop()!);
    this.insert(group, email, [expireTime ? { name: 'MEMBER', expireTime } : { name: 'MEMBER' }]);
  }

  /** The live membership of `email` in the group, if any (expired ones are gone). */
  member(groupEmail: string, email: string): StoredMembership | undefined {
    return this.find(this.groupByEmail(groupEmail), email);
  }

  /**
   * Whether `email` belongs to the group now, directly or through groups that are members of it:
   * a member group passes its own expiry down, so its members leave with it.
   */
  isMember(groupEmail: string, email: string, seen = new Set<string>()): boolean {
    const group = this.groupByEmail(groupEmail);
    if (seen.has(group.email)) return false;
    seen.add(group.email);
    return this.live(group).some((m) => m.memberId === email.toLowerCase() || (m.type === 'GROUP' && this.isMember(m.memberId, email, seen)));
  }

  /** Live memberships of the group. */
  members(groupEmail: string): StoredMembership[] {
    return this.live(this.groupByEmail(groupEmail));
  }

  // The API's view, by resource name; each throws GoogleApiError as Cloud Identity answers.

  lookupGroup(email: string): string {
    const group = this.byEmail.get(email.toLowerCase());
    // Cloud Identity answers a group that does not exist as one the caller may not see.
    if (!group) throw new GoogleApiError('PERMISSION_DENIED', `Error(2028): Permission denied for resource groups/${email} (or it may not exist).`);
    return group.name;
  }

  group(name: string): StoredGroup {
    const group = this.groups.get(name);
    if (!group) throw new GoogleApiError('PERMISSION_DENIED', `Error(2028): Permission denied for resource ${name} (or it may not exist).`);
    return group;
  }

  lookupMembership(groupName: string, email: string): string {
    const found = this.find(this.group(groupName), email);
    if (!found) throw new GoogleApiError('NOT_FOUND', 'Error(4003): Cannot find membership.');
    return found.name;
  }

  getMembership(name: string): StoredMembership {
    const [, g, , m] = name.split('/');
    const group = this.group(`groups/${g}`);
    const found = group.memberships.get(m);
    if (!found || this.expired(found)) {
      if (found) group.memberships.delete(m);
      throw new GoogleApiError('NOT_FOUND', `Error(4003): Cannot find membership ${name}.`);
    }
    return found;
  }

  listMemberships(groupName: string): StoredMembership[] {
    return this.live(this.group(groupName));
  }

  createMembership(groupName: string, email: string, roles: StoredRole[]): StoredMembership {
    const group = this.group(groupName);
    if (this.find(group, email)) throw new GoogleApiError('ALREADY_EXISTS', 'Error(4003): Member already exists.');
    this.checkExpiry(group, roles);
    return this.insert(group, email, roles);
  }

  deleteMembership(name: string): void {
    const found = this.getMembership(name);
    this.group(name.split('/').slice(0, 2).join('/')).memberships.delete(found.name.split('/').pop()!);
  }

  /** updateRolesParams: only the MEMBER role's expiry can change. */
  updateExpiry(name: string, expireTime: Date | undefined): StoredMembership {
    const found = this.getMembership(name);
    const group = this.group(name.split('/').slice(0, 2).join('/'));
    const member = found.roles.find((r) => r.name === 'MEMBER');
    if (!member) throw GoogleApiError.invalid('Error(4010): The membership has no MEMBER role to update.');
    this.checkExpiry(group, [{ name: 'MEMBER', expireTime }]);
    member.expireTime = expireTime;
    found.updateTime = this.now();
    return found;
  }

  toJson(m: StoredMembership, full: boolean): MembershipJson {
    const roles = [...m.roles]
      .sort((a, b) => ROLE_ORDER.indexOf(a.name) - ROLE_ORDER.indexOf(b.name))
      .map((r) => (r.expireTime ? { name: r.name, expiryDetail: { expireTime: r.expireTime.toISOString() } } : { name: r.name }));
    const json: MembershipJson = { name: m.name, preferredMemberKey: { id: m.memberId }, roles, type: m.type };
    if (full) {
      json.createTime = m.createTime.toISOString();
      json.updateTime = m.updateTime.toISOString();
    }
    return json;
  }

  private checkExpiry(group: StoredGroup, roles: StoredRole[]): void {
    const expiring = roles.filter((r) => r.expireTime);
    if (expiring.length === 0) return;
    if (expiring.some((r) => r.name !== 'MEMBER')) throw GoogleApiError.invalid('Error(4010): Expiry details are only supported for MEMBER roles.');
    if (!group.expirySupported) {
      throw new GoogleApiError(
        'FAILED_PRECONDITION',
        'Error(4045): Membership expiration is not available for this customer. It requires Google Workspace Enterprise or Cloud Identity Premium.',
      );
    }
    if (expiring.some((r) => r.expireTime!.getTime() <= this.now().getTime())) throw GoogleApiError.invalid('Error(4011): The expiry time must be in the future.');
  }

  private insert(group: StoredGroup, email: string, roles: StoredRole[]): StoredMembership {
    const id = randomBytes(9).toString('hex').slice(0, 17);
    const key = email.toLowerCase();
    const type: MembershipType = this.byEmail.has(key) ? 'GROUP' : /\.gserviceaccount\.com$/.test(key) ? 'SERVICE_ACCOUNT' : 'USER';
    const now = this.now();
    const membership: StoredMembership = { name: `${group.name}/memberships/${id}`, memberId: key, type, roles, createTime: now, updateTime: now };
    group.memberships.set(id, membership);
    return membership;
  }

  private groupByEmail(email: string): StoredGroup {
    const group = this.byEmail.get(email.toLowerCase());
    if (!group) throw new Error(`no group ${email}`);
    return group;
  }

  private find(group: StoredGroup, email: string): StoredMembership | undefined {
    return this.live(group).find((m) => m.memberId === email.toLowerCase());
  }

  /** The group's memberships whose MEMBER role has not expired; expired ones are dropped, as Cloud Identity drops them. */
  private live(group: StoredGroup): StoredMembership[] {
    for (const [id, m] of group.memberships) if (this.expired(m)) group.memberships.delete(id);
    return [...group.memberships.values()];
  }

  private expired(m: StoredMembership): boolean {
    const at = m.roles.find((r) => r.name === 'MEMBER')?.expireTime;
    return at !== undefined && at.getTime() <= this.now().getTime();
  }
}
