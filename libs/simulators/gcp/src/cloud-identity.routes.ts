import { CloudIdentityStore, StoredRole } from './cloud-identity.store';
import { GoogleApiError } from './google-api.error';

/** Every Cloud Identity v1 path starts so; the simulator's hook sends these here. */
export const CLOUD_IDENTITY_PATH = /^\/v1\/groups[/:]/;

/** System parameters every Google REST method accepts (the discovery document's top-level `parameters`). */
export const STANDARD_PARAMETERS = ['$.xgafv', 'access_token', 'alt', 'callback', 'fields', 'key', 'oauth_token', 'prettyPrint', 'quotaUser', 'uploadType', 'upload_protocol'];

interface Route {
  /** The method's id in the discovery document. */
  rpc: string;
  httpMethod: 'GET' | 'POST' | 'DELETE';
  path: RegExp;
  /** Query parameters of the method (the discovery document's, path parameters aside). */
  query: string[];
  /** The request body's schema, when the method has one. */
  body?: 'Membership' | 'ModifyMembershipRolesRequest';
}

/** The methods served, with the parameters the discovery document gives them (cloud-identity.routes.spec.ts checks both). */
export const ROUTES: Route[] = [
  { rpc: 'cloudidentity.groups.lookup', httpMethod: 'GET', path: /^\/v1\/groups:lookup$/, query: ['groupKey.id', 'groupKey.namespace'] },
  { rpc: 'cloudidentity.groups.get', httpMethod: 'GET', path: /^\/v1\/(groups\/[^/:]+)$/, query: [] },
  { rpc: 'cloudidentity.groups.memberships.lookup', httpMethod: 'GET', path: /^\/v1\/(groups\/[^/:]+)\/memberships:lookup$/, query: ['memberKey.id', 'memberKey.namespace'] },
  { rpc: 'cloudidentity.groups.memberships.list', httpMethod: 'GET', path: /^\/v1\/(groups\/[^/:]+)\/memberships$/, query: ['pageSize', 'pageToken', 'view'] },
  { rpc: 'cloudidentity.groups.memberships.create', httpMethod: 'POST', path: /^\/v1\/(groups\/[^/:]+)\/memberships$/, query: [], body: 'Membership' },
  { rpc: 'cloudidentity.groups.memberships.get', httpMethod: 'GET', path: /^\/v1\/(groups\/[^/:]+\/memberships\/[^/:]+)$/, query: [] },
  { rpc: 'cloudidentity.groups.memberships.delete', httpMethod: 'DELETE', path: /^\/v1\/(groups\/[^/:]+\/memberships\/[^/:]+)$/, query: [] },
  {
    rpc: 'cloudidentity.groups.memberships.modifyMembershipRoles',
    httpMethod: 'POST',
    path: /^\/v1\/(groups\/[^/:]+\/memberships\/[^/:]+):modifyMembershipRoles$/,
    query: [],
    body: 'ModifyMembershipRolesRequest',
  },
];

/**
 * Field names of the request bodies, nested as in the discovery document's schemas (`true` for a
 * leaf). Unknown names are refused as Google refuses them; output-only fields are accepted and ignored.
 */
type Shape = { [field: string]: true | Shape | [Shape] };
const ENTITY_KEY: Shape = { id: true, namespace: true };
const MEMBERSHIP_ROLE: Shape = {
  name: true,
  expiryDetail: { expireTime: true },
  restrictionEvaluations: { memberRestrictionEvaluation: { state: true } },
};
export const BODY_SHAPES: Record<NonNullable<Route['body']>, Shape> = {
  Membership: {
    createTime: true,
    name: true,
    preferredMemberKey: ENTITY_KEY,
    roles: [MEMBERSHIP_ROLE],
    type: true,
    updateTime: true,
  },
  ModifyMembershipRolesRequest: {
    addRoles: [MEMBERSHIP_ROLE],
    removeRoles: true,
    updateRolesParams: [{ fieldMask: true, membershipRole: MEMBERSHIP_ROLE }],
  },
};

const MEMBERSHIP_TYPE_URL = 'type.googleapis.com/google.apps.cloudidentity.groups.v1.Membership';
/** pageSize bounds per view (memberships.list in the discovery document). */
const PAGE = { BASIC: { default: 200, max: 1000 }, FULL: { default: 50, max: 500 } } as const;
const EXPIRY_MASKS = ['expiryDetail.expireTime', 'expiry_detail.expire_time'];

function unknownField(field: string, at: string): GoogleApiError {
  return GoogleApiError.invalid(`Invalid JSON payload received. Unknown name "${field}" at '${at}': Cannot find field.`);
}

/** Refuses field names the schema does not have, and non-objects where an object belongs. */
function checkShape(value: unknown, shape: Shape, at: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw GoogleApiError.invalid(`Invalid JSON payload received. Expected an object at '${at}'.`);
  for (const [key, v] of Object.entries(value)) {
    const sub = shape[key];
    if (!sub) throw unknownField(key, at);
    if (sub === true) continue;
    if (Array.isArray(sub)) {
      if (!Array.isArray(v)) throw GoogleApiError.invalid(`Invalid JSON payload received. Expected a list at '${at}.${key}'.`);
      v.forEach((item, i) => checkShape(item, sub[0], `${at}.${key}[${i}]`));
    } else checkShape(v, sub, `${at}.${key}`);
  }
}

/** google-datetime: RFC 3339 with a Z or an offset. */
function timestamp(value: unknown, field: string): Date {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw GoogleApiError.invalid(`Invalid value at '${field}' (type.googleapis.com/google.protobuf.Timestamp), ${JSON.stringify(value)}`);
  return date;
}

function roleOf(value: { name?: unknown; expiryDetail?: { expireTime?: unknown } }, at: string): StoredRole {
  if (value.name !== 'OWNER' && value.name !== 'MANAGER' && value.name !== 'MEMBER') throw GoogleApiError.invalid(`Error(4010): ${at}.name must be one of OWNER, MANAGER, MEMBER.`);
  const expireTime = value.expiryDetail?.expireTime;
  return expireTime === undefined ? { name: value.name } : { name: value.name, expireTime: timestamp(expireTime, `${at}.expiry_detail.expire_time`) };
}

/** The opaque page token: the offset into the group's membership list, bound to the group. */
function pageToken(group: string, offset: number): string {
  return Buffer.from(JSON.stringify([group, offset])).toString('base64url');
}

function readPageToken(group: string, token: string): number {
  try {
    const [g, offset] = JSON.parse(Buffer.from(token, 'base64url').toString()) as [string, number];
    if (g === group && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw GoogleApiError.invalid('Request contains an invalid argument: the page token is not valid.');
}

/**
 * Cloud Identity Groups v1 on its REST wire format: routes, query and body validation against the
 * discovery document's parameters and schemas, Google's error envelope, paging, and long-running
 * operations (create and delete answer an `Operation`, done at once as Cloud Identity's are).
 */
export class CloudIdentityRoutes {
  constructor(private readonly store: CloudIdentityStore) {}

  /** The route for a request, or null; `entry.rpc` takes its method id. */
  route(method: string, pathname: string): { route: Route; name: string } | null {
    for (const route of ROUTES) {
      const m = route.path.exec(pathname);
      if (m && route.httpMethod === method) return { route, name: m[1] ?? '' };
    }
    return null;
  }

  answer(method: string, url: URL, raw: string): { rpc: string | null; body: unknown } {
    const found = this.route(method, url.pathname);
    if (!found) throw new GoogleApiError('NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`);
    const { route, name } = found;
    for (const key of new Set(url.searchParams.keys())) {
      if (!route.query.includes(key) && !STANDARD_PARAMETERS.includes(key)) {
        throw GoogleApiError.invalid(`Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. Field '${key}' could not be found in request message.`);
      }
    }
    let json: Record<string, unknown> = {};
    if (route.body) {
      try {
        json = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        throw GoogleApiError.invalid('Invalid JSON payload received. Unexpected token.');
      }
      checkShape(json, BODY_SHAPES[route.body], route.body === 'Membership' ? 'membership' : '');
    } else if (raw !== '') throw GoogleApiError.invalid('A GET or DELETE request must not have a body.');
    const q = (key: string) => url.searchParams.get(key) ?? undefined;
    return { rpc: route.rpc, body: this.serve(route.rpc, name, q, json) };
  }

  private serve(rpc: string, name: string, q: (key: string) => string | undefined, json: Record<string, unknown>): unknown {
    const store = this.store;
    switch (rpc) {
      case 'cloudidentity.groups.lookup': {
        const id = q('groupKey.id');
        if (!id) throw GoogleApiError.invalid('Error(2001): groupKey.id is required.');
        return { name: store.lookupGroup(id) };
      }
      case 'cloudidentity.groups.get': {
        const g = store.group(name);
        return {
          name: g.name,
          groupKey: { id: g.email },
          parent: 'customers/C0sandbox',
          displayName: g.displayName,
          labels: { 'cloudidentity.googleapis.com/groups.discussion_forum': '' },
          createTime: g.createTime.toISOString(),
          updateTime: g.createTime.toISOString(),
        };
      }
      case 'cloudidentity.groups.memberships.lookup': {
        const id = q('memberKey.id');
        if (!id) throw GoogleApiError.invalid('Error(2001): memberKey.id is required.');
        return { name: store.lookupMembership(name, id) };
      }
      case 'cloudidentity.groups.memberships.get':
        return store.toJson(store.getMembership(name), true);
      case 'cloudidentity.groups.memberships.list': {
        const view = q('view') ?? 'BASIC';
        if (view !== 'BASIC' && view !== 'FULL' && view !== 'VIEW_UNSPECIFIED') throw GoogleApiError.invalid(`Invalid value for enum field view: "${view}"`);
        const bounds = PAGE[view === 'FULL' ? 'FULL' : 'BASIC'];
        const sizeText = q('pageSize');
        const size = sizeText === undefined ? bounds.default : Number(sizeText);
        if (!Number.isInteger(size) || size < 0) throw GoogleApiError.invalid(`Invalid value at 'page_size' (TYPE_INT32), "${sizeText}"`);
        if (size > bounds.max) throw GoogleApiError.invalid(`Error(2001): page_size must not be greater than ${bounds.max} for the ${view} view.`);
        const all = store.listMemberships(name);
        const token = q('pageToken');
        const offset = token ? readPageToken(name, token) : 0;
        const end = offset + (size === 0 ? bounds.default : size);
        const page = all.slice(offset, end).map((m) => store.toJson(m, view === 'FULL'));
        return end < all.length ? { memberships: page, nextPageToken: pageToken(name, end) } : { memberships: page };
      }
      case 'cloudidentity.groups.memberships.create': {
        const key = json.preferredMemberKey as { id?: unknown; namespace?: unknown } | undefined;
        if (typeof key?.id !== 'string' || key.id === '') throw GoogleApiError.invalid('Error(2001): preferred_member_key.id is required.');
        if (key.namespace !== undefined) throw GoogleApiError.invalid('Error(2001): external identities (namespace) are not supported in this group.');
        const given = (json.roles as Array<{ name?: unknown; expiryDetail?: { expireTime?: unknown } }> | undefined) ?? [{ name: 'MEMBER' }];
        const roles = given.map((r, i) => roleOf(r, `membership.roles[${i}]`));
        const names = roles.map((r) => r.name);
        if (new Set(names).size !== names.length) throw GoogleApiError.invalid('Error(4010): roles must not contain duplicate MembershipRoles with the same name.');
        if (!names.includes('MEMBER')) throw GoogleApiError.invalid('Error(4010): every membership has the MEMBER role.');
        const created = store.createMembership(name, key.id, roles);
        return { done: true, response: { '@type': MEMBERSHIP_TYPE_URL, ...store.toJson(created, true) } };
      }
      case 'cloudidentity.groups.memberships.delete':
        store.deleteMembership(name);
        return { done: true, response: { '@type': 'type.googleapis.com/google.protobuf.Empty' } };
      case 'cloudidentity.groups.memberships.modifyMembershipRoles':
        return { membership: store.toJson(this.modify(name, json), true) };
      default:
        throw new GoogleApiError('NOT_FOUND', `${rpc} is not served.`);
    }
  }

  /** Only `updateRolesParams` on the MEMBER role's expiry is served; add and remove are refused as not simulated. */
  private modify(name: string, json: Record<string, unknown>) {
    const updates = json.updateRolesParams as Array<{ fieldMask?: unknown; membershipRole?: { name?: unknown; expiryDetail?: { expireTime?: unknown } } }> | undefined;
    const adding = json.addRoles !== undefined || json.removeRoles !== undefined;
    if (updates && adding) throw GoogleApiError.invalid('Error(4010): Updating roles in the same request as adding or removing roles is not supported.');
    if (!updates) throw new GoogleApiError('INVALID_ARGUMENT', 'Error(4010): the simulator serves updateRolesParams only.');
    if (updates.length !== 1) throw GoogleApiError.invalid('Error(4010): exactly one MEMBER role can be updated.');
    const [update] = updates;
    if (typeof update.fieldMask !== 'string' || !EXPIRY_MASKS.includes(update.fieldMask)) {
      throw GoogleApiError.invalid('Error(4010): update_roles_params.field_mask may only contain expiry_detail.expire_time.');
    }
    const role = roleOf(update.membershipRole ?? {}, 'update_roles_params[0].membership_role');
    if (role.name !== 'MEMBER') throw GoogleApiError.invalid('Error(4010): Only the MEMBER MembershipRole can be updated.');
    return this.store.updateExpiry(name, role.expireTime);
  }
}
