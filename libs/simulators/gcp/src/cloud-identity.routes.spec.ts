import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BODY_SHAPES, CloudIdentityRoutes, ROUTES, STANDARD_PARAMETERS } from './cloud-identity.routes';
import { CloudIdentityStore } from './cloud-identity.store';
import { GoogleApiError } from './google-api.error';

/** The published discovery document, where CI and the sandbox lay out shared/specs (or JIT_SPECS_DIR). */
const SPECS = process.env.JIT_SPECS_DIR || [resolve(__dirname, '../../../../../shared/specs'), '/work/shared/specs'].find((d) => existsSync(d))!;

interface Method {
  id: string;
  httpMethod: string;
  flatPath: string;
  parameters?: Record<string, { location: string }>;
  request?: { $ref: string };
}
interface Schema {
  properties?: Record<string, { $ref?: string; items?: { $ref?: string } }>;
}
const doc = JSON.parse(readFileSync(`${SPECS}/gcp/cloudidentity/v1/cloudidentity-api.json`, 'utf8')) as {
  parameters: Record<string, unknown>;
  schemas: Record<string, Schema>;
  resources: { groups: { methods: Record<string, Method>; resources: { memberships: { methods: Record<string, Method> } } } };
};
const methods = [...Object.values(doc.resources.groups.methods), ...Object.values(doc.resources.groups.resources.memberships.methods)];

type Shape = { [field: string]: true | Shape | [Shape] };
/** Each field name of the simulator's shape is a property of the schema, at every level. */
function unknownFields(shape: Shape, schema: string, at = schema): string[] {
  const props = doc.schemas[schema].properties ?? {};
  return Object.entries(shape).flatMap(([field, sub]) => {
    const prop = props[field];
    if (!prop) return [`${at}.${field}`];
    if (sub === true) return [];
    const ref = Array.isArray(sub) ? prop.items?.$ref : prop.$ref;
    return ref ? unknownFields(Array.isArray(sub) ? sub[0] : sub, ref, `${at}.${field}`) : [`${at}.${field} (not a message)`];
  });
}

describe('the Cloud Identity routes against the v1 discovery document', () => {
  it.each(ROUTES.map((r) => [r.rpc, r] as const))('%s: verb, path and query parameters as the document gives them', (rpc, route) => {
    const method = methods.find((m) => m.id === rpc)!;
    expect(method).toBeDefined();
    expect(route.httpMethod).toBe(method.httpMethod);
    const sample = `/${method.flatPath.replace(/\{[^}]+\}/g, 'x1')}`;
    expect(route.path.test(sample)).toBe(true);
    const query = Object.entries(method.parameters ?? {}).filter(([, p]) => p.location === 'query').map(([n]) => n);
    expect([...route.query].sort()).toEqual(query.sort());
    expect(route.body).toBe(method.request?.$ref);
  });

  it('should accept only the document system parameters besides each method own', () => {
    expect([...STANDARD_PARAMETERS].sort()).toEqual(Object.keys(doc.parameters).sort());
  });

  it('should know only field names the request schemas have', () => {
    for (const [schema, shape] of Object.entries(BODY_SHAPES)) expect(unknownFields(shape, schema)).toEqual([]);
  });

  it('should drop a membership at its expiry on the store clock, and refuse expiries the customer cannot have', () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const store = new CloudIdentityStore();
    store.setClock(() => now);
    const group = store.createGroup('ops@example.com');
    const routes = new CloudIdentityRoutes(store);
    const url = (path: string) => new URL(`http://sim${path}`);
    const body = { preferredMemberKey: { id: 'a@example.com' }, roles: [{ name: 'MEMBER', expiryDetail: { expireTime: '2030-01-01T01:00:00Z' } }] };
    routes.answer('POST', url(`/v1/${group}/memberships`), JSON.stringify(body));
    expect(routes.answer('GET', url(`/v1/${group}/memberships:lookup?memberKey.id=a@example.com`), '').body).toEqual({ name: expect.stringMatching(/^groups\/\w+\/memberships\/\w+$/) });
    now = new Date('2030-01-01T01:00:00Z');
    expect(() => routes.answer('GET', url(`/v1/${group}/memberships:lookup?memberKey.id=a@example.com`), '')).toThrow(GoogleApiError);
    expect(routes.answer('GET', url(`/v1/${group}/memberships`), '').body).toEqual({ memberships: [] });

    const basic = store.createGroup('basic@example.com', { expirySupported: false });
    const refused = (() => {
      try {
        routes.answer('POST', url(`/v1/${basic}/memberships`), JSON.stringify({ ...body, roles: [{ name: 'MEMBER', expiryDetail: { expireTime: '2030-01-02T00:00:00Z' } }] }));
      } catch (e) {
        return e as GoogleApiError;
      }
    })();
    expect(refused?.status).toBe('FAILED_PRECONDITION');
    // Without an expiry the same customer can add a member.
    routes.answer('POST', url(`/v1/${basic}/memberships`), JSON.stringify({ preferredMemberKey: { id: 'b@example.com' } }));
    expect(store.members('basic@example.com').map((m) => m.roles)).toEqual([[{ name: 'MEMBER' }]]);
  });
});
