import { IdcGroup, IdcMembership, IdcUser, IdentityCenterStore } from './identity-center.store';
import { JsonSimError, page } from './json-protocol.codec';
import { JsonCall, JsonHandler } from './sso-admin.handler';

const DEFAULT_PAGE = 100;

type ResourceType = 'GROUP' | 'USER' | 'IDENTITY_STORE' | 'GROUP_MEMBERSHIP';

/** The endpoint adds `RequestId` to every Identity Store error body. */
function notFound(type: ResourceType, id: string | undefined): JsonSimError {
  const noun = { GROUP: 'Group', USER: 'User', IDENTITY_STORE: 'Identity store', GROUP_MEMBERSHIP: 'Group membership' }[type];
  return new JsonSimError('ResourceNotFoundException', `${noun} not found.`, { ResourceType: type, ResourceId: id });
}

function validation(message: string): JsonSimError {
  return new JsonSimError('ValidationException', message);
}

function userBody(u: IdcUser, storeId: string): Record<string, unknown> {
  const formatted = [u.givenName, u.familyName].filter(Boolean).join(' ');
  return {
    UserName: u.userName,
    UserId: u.userId,
    ExternalIds: u.externalId ? [{ Issuer: u.externalId.issuer, Id: u.externalId.id }] : undefined,
    Name: u.givenName || u.familyName ? { Formatted: formatted || undefined, GivenName: u.givenName, FamilyName: u.familyName } : undefined,
    DisplayName: u.displayName,
    Emails: u.email ? [{ Value: u.email, Type: 'work', Primary: true }] : undefined,
    IdentityStoreId: storeId,
  };
}

function groupBody(g: IdcGroup, storeId: string): Record<string, unknown> {
  return {
    GroupId: g.groupId,
    DisplayName: g.displayName,
    ExternalIds: g.externalId ? [{ Issuer: g.externalId.issuer, Id: g.externalId.id }] : undefined,
    Description: g.description,
    IdentityStoreId: storeId,
  };
}

function membershipBody(m: IdcMembership, storeId: string): Record<string, unknown> {
  return { IdentityStoreId: storeId, MembershipId: m.membershipId, GroupId: m.groupId, MemberId: { UserId: m.userId } };
}

interface AlternateIdentifier {
  ExternalId?: { Issuer: string; Id: string };
  UniqueAttribute?: { AttributePath: string; AttributeValue: unknown };
}

/**
 * The Identity Store operations, `AWSIdentityStore.*`, read-only: users, groups and memberships are
 * seeded. `GetUserId` finds a user by `userName` or `emails.value`, `GetGroupId` a group by
 * `displayName` (attribute paths case-exact as AWS documents them, so a misspelt path is a
 * ValidationException; values compared case-insensitively as the service does for these unique
 * attributes), or either by external id.
 */
export function identityStoreHandlers(store: IdentityCenterStore): Record<string, JsonHandler> {
  const open = (input: { IdentityStoreId: string }, call: JsonCall) => {
    if (call.accountId !== store.ownerAccountId && !store.organization.delegatedAdministrators.has(call.accountId)) {
      throw new JsonSimError('AccessDeniedException', `User: ${call.callerArn} is not authorized to perform: identitystore:${call.operation}`);
    }
    if (input.IdentityStoreId !== store.identityStoreId) throw notFound('IDENTITY_STORE', input.IdentityStoreId);
  };
  const invalidToken = () => validation('The NextToken is invalid.');
  const byAlternate = <T>(
    alt: AlternateIdentifier,
    items: Iterable<T>,
    paths: Record<string, (item: T) => string | undefined>,
    external: (item: T) => { issuer: string; id: string } | undefined,
    type: ResourceType,
  ): T => {
    let found: T | undefined;
    if (alt.ExternalId) {
      found = [...items].find((i) => external(i)?.issuer === alt.ExternalId!.Issuer && external(i)?.id === alt.ExternalId!.Id);
    } else {
      const { AttributePath, AttributeValue } = alt.UniqueAttribute!;
      const read = Object.hasOwn(paths, AttributePath) ? paths[AttributePath] : undefined;
      if (!read) throw validation(`AttributePath ${AttributePath} is not a unique attribute; use one of: ${Object.keys(paths).join(', ')}.`);
      if (typeof AttributeValue !== 'string') throw validation(`AttributeValue for ${AttributePath} must be a string.`);
      found = [...items].find((i) => read(i)?.toLowerCase() === AttributeValue.toLowerCase());
    }
    if (!found) throw notFound(type, undefined);
    return found;
  };
  const user = (id: string) => {
    const u = store.users.get(id);
    if (!u) throw notFound('USER', id);
    return u;
  };
  const group = (id: string) => {
    const g = store.groups.get(id);
    if (!g) throw notFound('GROUP', id);
    return g;
  };
  const filterValue = (filters: { AttributePath: string; AttributeValue: string }[] | undefined, allowed: string): string | undefined => {
    const f = filters?.[0];
    if (!f) return undefined;
    if (f.AttributePath.toLowerCase() !== allowed.toLowerCase()) throw validation(`Filtering on ${f.AttributePath} is not supported; use ${allowed}.`);
    return f.AttributeValue;
  };

  return {
    GetUserId: (input, call) => {
      open(input, call);
      const u = byAlternate<IdcUser>(input.AlternateIdentifier, store.users.values(), { userName: (x) => x.userName, 'emails.value': (x) => x.email }, (x) => x.externalId, 'USER');
      return { UserId: u.userId, IdentityStoreId: store.identityStoreId };
    },

    GetGroupId: (input, call) => {
      open(input, call);
      const g = byAlternate<IdcGroup>(input.AlternateIdentifier, store.groups.values(), { displayName: (x) => x.displayName }, (x) => x.externalId, 'GROUP');
      return { GroupId: g.groupId, IdentityStoreId: store.identityStoreId };
    },

    GetGroupMembershipId: (input, call) => {
      open(input, call);
      group(input.GroupId);
      const m = [...store.memberships.values()].find((x) => x.groupId === input.GroupId && x.userId === input.MemberId.UserId);
      if (!m) throw notFound('GROUP_MEMBERSHIP', undefined);
      return { MembershipId: m.membershipId, IdentityStoreId: store.identityStoreId };
    },

    DescribeUser: (input, call) => {
      open(input, call);
      return userBody(user(input.UserId), store.identityStoreId);
    },

    DescribeGroup: (input, call) => {
      open(input, call);
      return groupBody(group(input.GroupId), store.identityStoreId);
    },

    DescribeGroupMembership: (input, call) => {
      open(input, call);
      const m = store.memberships.get(input.MembershipId);
      if (!m) throw notFound('GROUP_MEMBERSHIP', input.MembershipId);
      return membershipBody(m, store.identityStoreId);
    },

    ListUsers: (input, call) => {
      open(input, call);
      const name = filterValue(input.Filters, 'UserName');
      const users = [...store.users.values()].filter((u) => name === undefined || u.userName.toLowerCase() === name.toLowerCase());
      const { items, nextToken } = page(users, input, 'ListUsers', name ?? '', DEFAULT_PAGE, invalidToken);
      return { Users: items.map((u) => userBody(u, store.identityStoreId)), NextToken: nextToken };
    },

    ListGroups: (input, call) => {
      open(input, call);
      const name = filterValue(input.Filters, 'DisplayName');
      const groups = [...store.groups.values()].filter((g) => name === undefined || g.displayName.toLowerCase() === name.toLowerCase());
      const { items, nextToken } = page(groups, input, 'ListGroups', name ?? '', DEFAULT_PAGE, invalidToken);
      return { Groups: items.map((g) => groupBody(g, store.identityStoreId)), NextToken: nextToken };
    },

    ListGroupMemberships: (input, call) => {
      open(input, call);
      group(input.GroupId);
      const all = [...store.memberships.values()].filter((m) => m.groupId === input.GroupId);
      const { items, nextToken } = page(all, input, 'ListGroupMemberships', input.GroupId, DEFAULT_PAGE, invalidToken);
      return { GroupMemberships: items.map((m) => membershipBody(m, store.identityStoreId)), NextToken: nextToken };
    },

    ListGroupMembershipsForMember: (input, call) => {
      open(input, call);
      user(input.MemberId.UserId);
      const all = [...store.memberships.values()].filter((m) => m.userId === input.MemberId.UserId);
      const { items, nextToken } = page(all, input, 'ListGroupMembershipsForMember', input.MemberId.UserId, DEFAULT_PAGE, invalidToken);
      return { GroupMemberships: items.map((m) => membershipBody(m, store.identityStoreId)), NextToken: nextToken };
    },

    IsMemberInGroups: (input, call) => {
      open(input, call);
      user(input.MemberId.UserId);
      return {
        Results: (input.GroupIds as string[]).map((groupId) => ({
          GroupId: groupId,
          MemberId: { UserId: input.MemberId.UserId },
          MembershipExists: [...store.memberships.values()].some((m) => m.groupId === groupId && m.userId === input.MemberId.UserId),
        })),
      };
    },
  };
}
