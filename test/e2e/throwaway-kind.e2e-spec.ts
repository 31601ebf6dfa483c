import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DomainError, GrantRequest, TargetKinds, defineTargetKind, matchPatterns, parseGrantRequest, rulePatterns, rulePrincipalFields } from '@jit/domain';
import { YamlFileError } from '@jit/config';
import { parseAccessPolicy } from '@jit/policy';
import { awsKinds } from '@jit/provider-aws';
import { azureKinds } from '@jit/provider-azure';
import { gcpKinds } from '@jit/provider-gcp';
import { targetKinds } from '@jit/testing';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, startTestBroker } from '../setup/test-broker';

/**
 * Issue 11 point 3's check: a new target kind is one descriptor in one provider lib. This one is
 * written here, as it would be in libs/providers/gcp/src/gcp-kinds.ts, and nothing else in the
 * repository knows it: the request parser, the rules file, the matcher, the deny-list, the
 * metrics' enforcement label and the API document all take it from the registry.
 */
const throwaway = defineTargetKind({
  kind: 'gcp.throwaway',
  cloud: 'gcp',
  target: z.strictObject({
    kind: z.literal('gcp.throwaway'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a bucket name'),
  }),
  principals: {
    types: ['user', 'workload'],
    id: /^(user|serviceAccount):[^@\s]+@[a-z0-9.-]+$/,
    idMessage: 'must be user:<email> or serviceAccount:<email>',
    impliedType: (id) => {
      const type = id.startsWith('serviceAccount:') ? 'workload' : 'user';
      return { type, mismatch: (declared) => `${id} is a ${type}, not a ${declared}` };
    },
  },
  rules: {
    fields: { buckets: rulePatterns, ...rulePrincipalFields },
    matches: (m, t, relation) => matchPatterns(m.buckets, t.bucket, false, relation),
  },
  // Say the cloud had no expiry of its own for it: only the sweeper ends it.
  enforcement: 'sweeper',
});

const kinds = new TargetKinds([...azureKinds, ...awsKinds, ...gcpKinds, throwaway]);
const bounds = { minSeconds: 1, maxSeconds: 86_400 };

const request = (overrides: Record<string, unknown> = {}, target: Record<string, unknown> = {}) => ({
  cloud: 'gcp',
  principal: { type: 'user', id: 'user:alice@example.com' },
  target: { kind: 'gcp.throwaway', bucket: 'logs-app', ...target },
  duration: 'PT2S',
  ...overrides,
});

function issues(body: unknown): { field: string; message: string }[] {
  try {
    parseGrantRequest(body, bounds, kinds);
  } catch (e) {
    if (e instanceof DomainError) return e.issues.map(({ field, message }) => ({ field, message }));
    throw e;
  }
  throw new Error('expected a validation error');
}

const RULES = `
version: 1
denyList:
  - name: secret-buckets
    targets:
      - { kind: gcp.throwaway, buckets: ["*-secret"] }
rules:
  - name: log-buckets
    requesters:
      - subjects: ["*"]
    targets:
      - { kind: gcp.throwaway, buckets: ["logs-*"], principalTypes: [user] }
    maxDuration: PT1H
    approval: auto
`;

describe('a throwaway target kind described in one place', () => {
  describe('request parsing', () => {
    it('should accept a request for it, fields and all', () => {
      const parsed = parseGrantRequest(request(), bounds, kinds);
      expect(parsed.target).toEqual({ kind: 'gcp.throwaway', bucket: 'logs-app' });
      expect(parsed.cloud).toBe('gcp');
    });

    it('should refuse its bad fields and principals with the same problems as any kind', () => {
      expect(issues(request({}, { bucket: 'A' }))).toEqual([{ field: 'target.bucket', message: 'must be a bucket name' }]);
      expect(issues(request({}, { extra: 1 }))).toEqual([{ field: 'target.extra', message: 'unknown field' }]);
      expect(issues(request({ principal: { type: 'group', id: 'user:alice@example.com' } }))).toEqual([
        { field: 'principal.type', message: 'gcp.throwaway accepts user, workload' },
        { field: 'principal.type', message: 'user:alice@example.com is a user, not a group' },
      ]);
      expect(issues(request({ principal: { type: 'user', id: 'group:ops@example.com' } }))).toEqual([
        { field: 'principal.id', message: 'must be user:<email> or serviceAccount:<email>' },
      ]);
      expect(issues(request({ principal: { type: 'user', id: 'serviceAccount:ci@example.com' } }))).toEqual([
        { field: 'principal.type', message: 'serviceAccount:ci@example.com is a workload, not a user' },
      ]);
      expect(issues(request({ cloud: 'aws' }))).toEqual([{ field: 'target.kind', message: 'gcp.throwaway is not a aws kind' }]);
    });

    it('should list it among the kinds when the request names none it knows', () => {
      const [issue, ...others] = issues(request({}, { kind: 'gcp.nothing' }));
      expect(others).toEqual([]);
      expect(issue.field).toBe('target.kind');
      expect(issue.message).toContain("'gcp.throwaway'");
      expect(issue.message).toContain("'gcp.iam-binding'");
    });

    it('should be unknown to a registry without its descriptor', () => {
      expect(() => parseGrantRequest(request(), bounds, targetKinds)).toThrow(DomainError);
    });
  });

  describe('a rules file', () => {
    const policy = parseAccessPolicy(RULES, 'rules.yaml', new Date(), kinds);
    const asked = (bucket: string, principal = { type: 'user', id: 'user:alice@example.com' }): GrantRequest =>
      parseGrantRequest(request({ principal }, { bucket }), bounds, kinds);

    it('should match it with its own fields: covered by a rule, touched by the deny-list, or neither', () => {
      expect(policy.evaluate({ subject: 'alice' }, asked('logs-app'))).toMatchObject({ effect: 'allow', rule: 'log-buckets' });
      expect(policy.evaluate({ subject: 'alice' }, asked('logs-secret'))).toMatchObject({ effect: 'deny', code: 'deny_list', rule: 'deny-list:secret-buckets' });
      expect(policy.evaluate({ subject: 'alice' }, asked('billing'))).toMatchObject({ effect: 'deny', code: 'no_matching_rule' });
      expect(policy.evaluate({ subject: 'alice' }, asked('logs-app', { type: 'workload', id: 'serviceAccount:ci@example.com' }))).toMatchObject({
        effect: 'deny',
        code: 'no_matching_rule',
      });
    });

    it('should check its matcher fields, and be refused where the kind is not registered', () => {
      const fieldsOf = (text: string, registry: TargetKinds) => {
        try {
          parseAccessPolicy(text, 'rules.yaml', new Date(), registry);
        } catch (e) {
          if (e instanceof YamlFileError) return e.issues.map((i) => i.field);
          throw e;
        }
        return [];
      };
      expect(fieldsOf(RULES.replace('buckets: ["logs-*"]', 'bucketz: ["logs-*"]'), kinds)).toEqual(
        expect.arrayContaining(['rules.0.targets.0.buckets']),
      );
      expect(fieldsOf(RULES, kinds)).toEqual([]);
      expect(fieldsOf(RULES, targetKinds)).toEqual(['denyList.0.targets.0.kind', 'rules.0.targets.0.kind']);
    });
  });

  describe('through the broker', () => {
    let t: TestBroker;
    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'jit-throwaway-'));
      const rules = join(dir, 'rules.yaml');
      writeFileSync(rules, RULES);
      t = await startTestBroker({ JIT_POLICY_FILE: rules }, { kinds });
    });
    afterAll(async () => {
      await t.close();
    });

    it('should grant it, end it at expiry, and label its revocation lag as sweeper-enforced', async () => {
      const { body } = await t.http.post('/v1/grants').set(t.as('alice')).send(request()).expect(201);
      expect(body).toMatchObject({ state: 'active', cloud: 'gcp', target: { kind: 'gcp.throwaway', bucket: 'logs-app' } });
      const ended = await pollUntil(async () => {
        const g = (await t.http.get(`/v1/grants/${body.id}`).set(t.as('admin')).expect(200)).body;
        return g.state === 'expired' ? g : undefined;
      }, 30_000, 100);
      expect(ended.endReason).toBe('expired');
      const metrics = (await t.http.get('/metrics').set(t.as('auditor')).expect(200)).text;
      expect(metrics).toMatch(/^jit_revocation_lag_seconds_count\{cloud="gcp",kind="gcp\.throwaway",enforcement="sweeper"\} 1$/m);
    });

    it('should answer a bad request for it with a 400 naming the field, and a denied one with a 403', async () => {
      const bad = await t.http.post('/v1/grants').set(t.as('alice')).send(request({}, { bucket: 'A' })).expect(400);
      expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'target.bucket', message: 'must be a bucket name' })]);
      const denied = await t.http.post('/v1/grants').set(t.as('alice')).send(request({}, { bucket: 'logs-secret' })).expect(403);
      expect(denied.body.decision).toMatchObject({ code: 'deny_list' });
    });

    it('should document it in the request body of the API document', async () => {
      const doc = (await t.http.get('/docs').set(t.as('alice')).expect(200)).body;
      const text = JSON.stringify(doc.paths['/v1/grants'].post.requestBody);
      expect(text).toContain('"gcp.throwaway"');
      expect(text).toContain('"gcp.iam-binding"');
    });
  });
});
