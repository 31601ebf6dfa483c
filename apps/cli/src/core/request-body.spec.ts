import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../exit-codes';
import { buildRequestBody, normaliseDuration, parsePrincipal, parseTargetFields } from './request-body';

describe('request-body', () => {
  describe('buildRequestBody', () => {
    it('should build the whole body from flags, taking the cloud from the kind', () => {
      expect(
        buildRequestBody({
          kind: 'aws.iam-policy',
          target: ['actions=["s3:PutObject"]', 'resources=arn:aws:s3:::a/*', 'resources=arn:aws:s3:::b/*'],
          principal: 'workload:arn:aws:iam::123456789012:role/ci',
          duration: '1h30m',
          justification: 'release',
        }),
      ).toEqual({
        cloud: 'aws',
        principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci' },
        target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::a/*', 'arn:aws:s3:::b/*'] },
        duration: 'PT1H30M',
        justification: 'release',
      });
    });

    it('should read a YAML file and let flags override its fields', () => {
      const dir = mkdtempSync(join(tmpdir(), 'jit-request-'));
      const file = join(dir, 'request.yaml');
      writeFileSync(
        file,
        'cloud: gcp\nprincipal: { type: user, id: "user:a@acme.com" }\ntarget: { kind: gcp.iam-binding, resource: projects/p, role: roles/viewer }\nduration: PT1H\nticket: CHG-1\n',
      );
      expect(buildRequestBody({ file, duration: '20m', target: ['role=roles/storage.admin'] })).toEqual({
        cloud: 'gcp',
        principal: { type: 'user', id: 'user:a@acme.com' },
        target: { kind: 'gcp.iam-binding', resource: 'projects/p', role: 'roles/storage.admin' },
        duration: 'PT20M',
        ticket: 'CHG-1',
      });
      expect(buildRequestBody({ file: '-' }, () => '{"cloud":"aws","principal":{"type":"user","id":"x"},"target":{"kind":"aws.sts-credentials"},"duration":"PT16M"}')).toMatchObject({
        cloud: 'aws',
      });
    });

    it('should name what is missing, and refuse a file that is not one request', () => {
      expect(() => buildRequestBody({ kind: 'aws.iam-policy' })).toThrow(new CliError('the request needs --principal, --duration, as flags or in -f <file>', 2));
      const dir = mkdtempSync(join(tmpdir(), 'jit-request-'));
      writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
      expect(() => buildRequestBody({ file: join(dir, 'list.yaml') })).toThrow(/must hold one request/);
      expect(() => buildRequestBody({ file: join(dir, 'absent.yaml') })).toThrow(/ENOENT/);
      expect(() => buildRequestBody({ kind: 'oracle.role', principal: 'x', duration: '1h' })).toThrow(/cloud: must be one of aws, azure, gcp/);
    });
  });

  describe('parseTargetFields', () => {
    it('should refuse a pair without = and JSON that does not parse', () => {
      expect(() => parseTargetFields(['actions'])).toThrow(/must be key=value/);
      expect(() => parseTargetFields(['actions=[s3:x'])).toThrow(/is not valid JSON/);
    });

    it('should keep an = inside the value', () => {
      expect(parseTargetFields(['condition=a=b'])).toEqual(new Map([['condition', 'a=b']]));
    });
  });

  describe('parsePrincipal', () => {
    it('should take a type prefix, else --principal-type, else workload', () => {
      expect(parsePrincipal('group:abc')).toEqual({ type: 'group', id: 'abc' });
      expect(parsePrincipal('arn:aws:iam::1:role/x')).toEqual({ type: 'workload', id: 'arn:aws:iam::1:role/x' });
      expect(parsePrincipal('user:alice@acme.com', 'user')).toEqual({ type: 'user', id: 'user:alice@acme.com' });
      expect(() => parsePrincipal('x', 'robot')).toThrow(/--principal-type: must be one of user, group, workload/);
    });
  });

  describe('normaliseDuration', () => {
    it('should turn shorthands into ISO 8601 and leave ISO as it is', () => {
      expect(['90s', '20m', '1h', '1h30m', 'PT5M', 'P1D'].map(normaliseDuration)).toEqual(['PT90S', 'PT20M', 'PT1H', 'PT1H30M', 'PT5M', 'P1D']);
    });
  });
});
