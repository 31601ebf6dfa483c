import { grantedServices } from './access-advisor.store';
import { AwsSimError } from './aws-sim.error';
import { EntityKind, IamEntity, IamStore } from './iam.store';
import { ManagedPolicy } from './managed-policy.store';
import { IAM_RULES, enumMember, listMember, member, required } from './member.constraints';
import { parseIdentityPolicy } from './policy-document.validator';
import { XmlValue } from './query-protocol.codec';
import { BROKER_IDENTITY, Caller, callerAccount } from './request.caller';

type Handler = (params: Record<string, string>, caller: Caller) => XmlValue | undefined;

const DEFAULT_MAX_ITEMS = 100;
const ENTITY_TYPES = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const;
const GRANULARITY = ['SERVICE_LEVEL', 'ACTION_LEVEL'] as const;
const NOUN: Record<EntityKind, 'Role' | 'User' | 'Group'> = { role: 'Role', user: 'User', group: 'Group' };
/** Roles IAM refuses to change: service-linked roles and IAM Identity Center's reserved roles. */
const PROTECTED_ROLE_PATH = /^\/(?:aws-service-role|aws-reserved)\//;

export function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Policy documents come back URL-encoded (RFC 3986), cloud-apis.md B1. */
export function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A listing's `Marker` (opaque, as IAM's are): an offset, or with `keyOf` (items in ascending key
 * order) the key of the last item returned, so that a listing changing between pages neither
 * skips nor repeats what was there throughout: the next page starts after that key, wherever it is now.
 */
function page<T>(items: T[], p: Record<string, string>, keyOf?: (item: T) => string): { items: T[]; truncated: boolean; marker?: string } {
  const marker = member(p, 'Marker', IAM_RULES.Marker);
  const maxItems = Number(member(p, 'MaxItems', IAM_RULES.MaxItems) ?? DEFAULT_MAX_ITEMS);
  let start = 0;
  if (marker !== undefined) {
    const text = Buffer.from(marker, 'base64url').toString('utf8');
    if (keyOf) {
      if (!text.startsWith('k:')) throw new AwsSimError('InvalidInput', 400, 'Invalid Marker.');
      const after = text.slice(2);
      start = items.findIndex((i) => keyOf(i) > after);
      if (start < 0) start = items.length;
    } else {
      start = Number(text);
      if (!Number.isInteger(start) || start < 0 || start > items.length) throw new AwsSimError('InvalidInput', 400, 'Invalid Marker.');
    }
  }
  const slice = items.slice(start, start + maxItems);
  const next = start + slice.length;
  const truncated = next < items.length;
  const nextMarker = !truncated ? undefined : keyOf ? `k:${keyOf(slice[slice.length - 1])}` : String(next);
  return { items: slice, truncated, marker: nextMarker === undefined ? undefined : Buffer.from(nextMarker).toString('base64url') };
}

function attachedOf(store: IamStore, entity: IamEntity): XmlValue[] {
  return entity.attached.map((arn) => ({ PolicyName: store.managed.find(entity.accountId, arn)?.name ?? arn.split('/').pop()!, PolicyArn: arn }));
}

function inlineOf(entity: IamEntity): XmlValue[] {
  return [...entity.policies.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, text]) => ({ PolicyName: name, PolicyDocument: rfc3986(text) }));
}

function attachmentCount(store: IamStore, accountId: string, arn: string): number {
  return (['role', 'user', 'group'] as const).reduce((n, kind) => n + store.all(kind, accountId).filter((e) => e.attached.includes(arn)).length, 0);
}

function policyXml(store: IamStore, accountId: string, p: ManagedPolicy): Record<string, XmlValue | undefined> {
  return {
    PolicyName: p.name,
    PolicyId: p.id,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: attachmentCount(store, accountId, p.arn),
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    Description: p.description,
    CreateDate: iso(p.createDate),
    UpdateDate: iso(p.updateDate),
  };
}

function entityDetail(store: IamStore, e: IamEntity): XmlValue {
  const common = { Path: e.path, [`${NOUN[e.kind]}Name`]: e.name, [`${NOUN[e.kind]}Id`]: e.id, Arn: e.arn, CreateDate: iso(e.createDate) };
  switch (e.kind) {
    case 'user':
      return { ...common, UserPolicyList: inlineOf(e), GroupList: [...e.groups], AttachedManagedPolicies: attachedOf(store, e) };
    case 'group':
      return { ...common, GroupPolicyList: inlineOf(e), AttachedManagedPolicies: attachedOf(store, e) };
    case 'role':
      return {
        ...common,
        AssumeRolePolicyDocument: rfc3986(e.trustPolicy!),
        InstanceProfileList: [],
        RolePolicyList: inlineOf(e),
        AttachedManagedPolicies: attachedOf(store, e),
        RoleLastUsed: e.lastUsed ? { LastUsedDate: iso(e.lastUsed.date), Region: e.lastUsed.region } : {},
      };
  }
}

/**
 * The IAM actions discovery reads (`GetAccountAuthorizationDetails`, access advisor, `GetUser`)
 * and the managed-policy and group actions that make what it reads (iam/2010-05-08/service-2.json).
 */
export function iamDiscoveryHandlers(store: IamStore, now: () => Date = () => new Date()): Record<string, Handler> {
  const handlers: Record<string, Handler> = {};
  const account = (caller: Caller) => callerAccount(caller);

  for (const kind of ['role', 'user', 'group'] as const) {
    const noun = NOUN[kind];
    const entityOf = (p: Record<string, string>, caller: Caller) => store.get(kind, account(caller), required(p, `${noun}Name`, IAM_RULES[`${noun}Name`]));
    const writable = (e: IamEntity) => {
      if (e.kind === 'role' && PROTECTED_ROLE_PATH.test(e.path)) {
        throw new AwsSimError('UnmodifiableEntity', 400, `Cannot perform the operation on the protected role '${e.name}' - this role is only modifiable by AWS`);
      }
      return e;
    };
    handlers[`Attach${noun}Policy`] = (p, caller) => {
      const e = writable(entityOf(p, caller));
      store.managed.attach(e, required(p, 'PolicyArn', IAM_RULES.PolicyArn));
      return undefined;
    };
    handlers[`Detach${noun}Policy`] = (p, caller) => {
      const e = writable(entityOf(p, caller));
      store.managed.detach(e, required(p, 'PolicyArn', IAM_RULES.PolicyArn));
      return undefined;
    };
    handlers[`ListAttached${noun}Policies`] = (p, caller) => {
      const e = entityOf(p, caller);
      const prefix = member(p, 'PathPrefix', IAM_RULES.PolicyPath) ?? '/';
      const all = attachedOf(store, e).filter((a) => (store.managed.find(e.accountId, (a as { PolicyArn: string }).PolicyArn)?.path ?? '/').startsWith(prefix));
      const { items, truncated, marker } = page(all, p);
      return { AttachedPolicies: items, IsTruncated: truncated, Marker: marker };
    };
  }

  handlers.CreatePolicy = (p, caller) => {
    const name = required(p, 'PolicyName', IAM_RULES.PolicyName);
    const document = required(p, 'PolicyDocument', IAM_RULES.PolicyDocument);
    const path = member(p, 'Path', IAM_RULES.PolicyPath) ?? '/';
    const description = member(p, 'Description', IAM_RULES.PolicyDescription);
    const policy = store.managed.create(account(caller), name, document, path, description);
    return { Policy: policyXml(store, account(caller), policy) };
  };
  handlers.GetPolicy = (p, caller) => ({ Policy: policyXml(store, account(caller), store.managed.get(account(caller), required(p, 'PolicyArn', IAM_RULES.PolicyArn))) });
  handlers.GetPolicyVersion = (p, caller) => {
    const policy = store.managed.get(account(caller), required(p, 'PolicyArn', IAM_RULES.PolicyArn));
    const versionId = required(p, 'VersionId', IAM_RULES.VersionId);
    const version = policy.versions.find((v) => v.versionId === versionId);
    if (!version) throw AwsSimError.noSuchEntity(`Policy ${policy.arn} version ${versionId} does not exist or is not attachable.`);
    return { PolicyVersion: { Document: rfc3986(version.document), VersionId: version.versionId, IsDefaultVersion: version.versionId === policy.defaultVersionId, CreateDate: iso(version.createDate) } };
  };

  handlers.CreateGroup = (p, caller) => {
    const name = required(p, 'GroupName', IAM_RULES.GroupName);
    const path = member(p, 'Path', IAM_RULES.Path) ?? '/';
    const g = store.create('group', name, { accountId: account(caller), path });
    return { Group: { Path: g.path, GroupName: g.name, GroupId: g.id, Arn: g.arn, CreateDate: iso(g.createDate) } };
  };
  handlers.AddUserToGroup = (p, caller) => {
    store.addToGroup(account(caller), required(p, 'GroupName', IAM_RULES.GroupName), required(p, 'UserName', IAM_RULES.UserName));
    return undefined;
  };
  handlers.RemoveUserFromGroup = (p, caller) => {
    store.removeFromGroup(account(caller), required(p, 'GroupName', IAM_RULES.GroupName), required(p, 'UserName', IAM_RULES.UserName));
    return undefined;
  };

  handlers.GetUser = (p, caller) => {
    const name = member(p, 'UserName', IAM_RULES.UserName);
    if (name === undefined && !caller.session) {
      return { User: { Path: '/', UserName: 'jit-broker', UserId: BROKER_IDENTITY.userId, Arn: BROKER_IDENTITY.arn, CreateDate: iso(new Date(0)) } };
    }
    if (name === undefined) throw AwsSimError.validation('Must specify userName when calling with non-User credentials');
    const u = store.get('user', account(caller), name);
    return {
      User: { Path: u.path, UserName: u.name, UserId: u.id, Arn: u.arn, CreateDate: iso(u.createDate), PasswordLastUsed: u.passwordLastUsed ? iso(u.passwordLastUsed) : undefined },
    };
  };

  handlers.GetGroup = (p, caller) => {
    const g = store.get('group', account(caller), required(p, 'GroupName', IAM_RULES.GroupName));
    const users = page(store.membersOf(g), p);
    return {
      Group: { Path: g.path, GroupName: g.name, GroupId: g.id, Arn: g.arn, CreateDate: iso(g.createDate) },
      Users: users.items.map((u) => ({ Path: u.path, UserName: u.name, UserId: u.id, Arn: u.arn, CreateDate: iso(u.createDate) })),
      IsTruncated: users.truncated,
      Marker: users.marker,
    };
  };

  handlers.GetAccountAuthorizationDetails = (p, caller) => {
    const accountId = account(caller);
    const filter = listMember(p, 'Filter');
    for (const [i, f] of filter.entries()) enumMember({ [`Filter.member.${i + 1}`]: f }, `Filter.member.${i + 1}`, ENTITY_TYPES);
    const wants = (t: (typeof ENTITY_TYPES)[number]) => filter.length === 0 || filter.includes(t);
    // One sequence paged by MaxItems across the lists: users, groups, roles, then policies.
    // AWS managed policies are listed only when attached in the account [unverified: observed, not documented].
    type Item = { list: 'UserDetailList' | 'GroupDetailList' | 'RoleDetailList' | 'Policies'; value: XmlValue; key: string };
    const items: Item[] = [
      ...(wants('User') ? store.all('user', accountId).map((e): Item => ({ list: 'UserDetailList', value: entityDetail(store, e), key: `0 ${e.name.toLowerCase()}` })) : []),
      ...(wants('Group') ? store.all('group', accountId).map((e): Item => ({ list: 'GroupDetailList', value: entityDetail(store, e), key: `1 ${e.name.toLowerCase()}` })) : []),
      ...(wants('Role') ? store.all('role', accountId).map((e): Item => ({ list: 'RoleDetailList', value: entityDetail(store, e), key: `2 ${e.name.toLowerCase()}` })) : []),
      ...store.managed
        .visible(accountId)
        .filter((m) => (m.owner === 'aws' ? wants('AWSManagedPolicy') && attachmentCount(store, accountId, m.arn) > 0 : wants('LocalManagedPolicy')))
        .map((m): Item => ({
          list: 'Policies',
          key: `3 ${m.name.toLowerCase()} ${m.arn}`,
          value: {
            ...policyXml(store, accountId, m),
            PolicyVersionList: m.versions.map((v) => ({ Document: rfc3986(v.document), VersionId: v.versionId, IsDefaultVersion: v.versionId === m.defaultVersionId, CreateDate: iso(v.createDate) })),
          },
        })),
    ];
    // Users, groups, roles, then policies, each by name: the Marker names the last item returned.
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const { items: slice, truncated, marker } = page(items, p, (i) => i.key);
    const of = (list: Item['list']) => slice.filter((i) => i.list === list).map((i) => i.value);
    return {
      UserDetailList: of('UserDetailList'),
      GroupDetailList: of('GroupDetailList'),
      RoleDetailList: of('RoleDetailList'),
      Policies: of('Policies'),
      IsTruncated: truncated,
      Marker: marker,
    };
  };

  handlers.GenerateServiceLastAccessedDetails = (p, caller) => {
    const arn = required(p, 'Arn', IAM_RULES.Arn);
    const granularity = (enumMember(p, 'Granularity', GRANULARITY) ?? 'SERVICE_LEVEL') as (typeof GRANULARITY)[number];
    const accountId = account(caller);
    let granted: string[];
    let entities: string[];
    if (/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\//.test(arn)) {
      const policy = store.managed.get(accountId, arn);
      granted = grantedServices([parseIdentityPolicy(store.managed.defaultDocument(policy))]);
      entities = (['role', 'user', 'group'] as const).flatMap((k) => store.all(k, accountId).filter((e) => e.attached.includes(arn)))
        .flatMap((e) => (e.kind === 'group' ? store.membersOf(e) : [e])).map((e) => e.arn);
    } else {
      const entity = store.byArn(arn);
      if (!/^arn:aws[\w-]*:iam::\d{12}:(role|user|group)\//.test(arn)) throw new AwsSimError('InvalidInput', 400, `ARN ${arn} is not valid.`);
      if (!entity || entity.accountId !== accountId) throw AwsSimError.noSuchEntity(`The entity with ARN ${arn} cannot be found.`);
      const policies = entity.kind === 'group'
        ? [...entity.policies.values(), ...entity.attached.map((a) => store.managed.find(accountId, a)).filter((m): m is ManagedPolicy => !!m).map((m) => store.managed.defaultDocument(m))].map((t) => parseIdentityPolicy(t))
        : store.parsedPolicies(entity);
      granted = grantedServices(policies);
      entities = entity.kind === 'group' ? store.membersOf(entity).map((u) => u.arn) : [entity.arn];
    }
    return { JobId: store.advisor.start(accountId, granularity, granted, entities, now()) };
  };

  handlers.GetServiceLastAccessedDetails = (p, caller) => {
    const job = store.advisor.poll(account(caller), required(p, 'JobId', IAM_RULES.JobId), now());
    const base = { JobStatus: job.completed ? 'COMPLETED' : 'IN_PROGRESS', JobType: job.granularity, JobCreationDate: iso(job.created) };
    // JobCompletionDate is `required` in the model yet documented there as "null if the job is still
    // in progress": the query protocol writes a null as no element, so it is left out until the job ends.
    if (!job.completed) return { ...base, ServicesLastAccessed: [] };
    const { items, truncated, marker } = page(job.services, p);
    return {
      ...base,
      ServicesLastAccessed: items.map((s) => ({
        ServiceName: s.name,
        LastAuthenticated: s.lastAuthenticated ? iso(s.lastAuthenticated) : undefined,
        ServiceNamespace: s.namespace,
        LastAuthenticatedEntity: s.lastAuthenticatedEntity,
        LastAuthenticatedRegion: s.lastAuthenticatedRegion,
        TotalAuthenticatedEntities: s.totalAuthenticatedEntities,
      })),
      JobCompletionDate: iso(job.completed),
      IsTruncated: truncated,
      Marker: marker,
    };
  };
  return handlers;
}
