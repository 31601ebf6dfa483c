import { YamlFileError } from '@jit/config';
import { NOTIFICATION_TYPES } from './notification';
import { parseNotificationsConfig, webhookWants } from './notifications.config';
import { Notification } from './notification';
import { AuditEvent } from '@jit/domain';

const ENV = { SLACK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX', JIT_WEBHOOK_SECRET: 'whsec-0123456789abcdef', SHORT: 'short' };

function issues(text: string, env: NodeJS.ProcessEnv = ENV) {
  try {
    parseNotificationsConfig(text, 'notifications.yaml', env);
  } catch (e) {
    if (e instanceof YamlFileError) return e.issues.map(({ line, field, message }) => ({ line, field, message }));
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseNotificationsConfig', () => {
  it('should resolve URLs and secrets from the environment and default to every event', () => {
    const config = parseNotificationsConfig(
      [
        'webhooks:',
        '  - name: security-siem',
        '    url: https://hooks.example.com/jit',
        '    secretEnv: JIT_WEBHOOK_SECRET',
        '  - name: oncall-slack',
        '    urlEnv: SLACK_URL',
        '    format: slack',
        '    events: [break_glass.used, grant.revoke_failed]',
      ].join('\n'),
      'notifications.yaml',
      ENV,
    );
    expect(config.webhooks).toEqual([
      { name: 'security-siem', url: 'https://hooks.example.com/jit', format: 'json', secret: ENV.JIT_WEBHOOK_SECRET, events: [...NOTIFICATION_TYPES] },
      { name: 'oncall-slack', url: ENV.SLACK_URL, format: 'slack', secret: null, events: ['break_glass.used', 'grant.revoke_failed'] },
    ]);
  });

  it('should accept http only to a loopback host', () => {
    expect(parseNotificationsConfig('webhooks:\n  - name: local\n    url: http://127.0.0.1:9000/hook\n', 'x', {}).webhooks).toHaveLength(1);
    expect(issues('webhooks:\n  - name: remote\n    url: http://hooks.example.com/jit\n')).toEqual([
      { line: 3, field: 'webhooks.0.url', message: 'must use https (http is accepted only for a loopback host)' },
    ]);
  });

  it('should name the line and field of a missing or short env var, never its value', () => {
    expect(issues('webhooks:\n  - name: a\n    urlEnv: NOPE\n  - name: b\n    url: https://x.example.com\n    secretEnv: SHORT\n')).toEqual([
      { line: 3, field: 'webhooks.0.urlEnv', message: 'environment variable NOPE is not set' },
      { line: 6, field: 'webhooks.1.secretEnv', message: 'environment variable SHORT must hold at least 16 characters' },
    ]);
  });

  it('should not repeat a secret URL that is not https', () => {
    const found = issues('webhooks:\n  - name: a\n    urlEnv: PLAIN\n', { PLAIN: 'http://hooks.example.com/services/T0/B0/SECRETTOKEN' });
    expect(found).toEqual([{ line: 3, field: 'webhooks.0.urlEnv', message: expect.stringContaining('PLAIN must use https') }]);
    expect(JSON.stringify(found)).not.toContain('SECRETTOKEN');
  });

  it('should reject both or neither of url and urlEnv, unknown events, bad and duplicate names', () => {
    expect(
      issues(
        [
          'webhooks:',
          '  - name: a',
          '    url: https://a.example.com',
          '    urlEnv: SLACK_URL',
          '  - name: b',
          '  - name: Bad_Name',
          '    url: https://c.example.com',
          '    events: [grant.expired]',
          '  - name: a',
          '    url: https://d.example.com',
        ].join('\n'),
      ).map((i) => [i.line, i.field]),
    ).toEqual([
      [2, 'webhooks.0'],
      [5, 'webhooks.1'],
      [6, 'webhooks.2.name'],
      [8, 'webhooks.2.events.0'],
    ]);
    expect(issues('webhooks:\n  - name: a\n    url: https://a.example.com\n  - name: a\n    url: https://b.example.com\n')).toEqual([
      { line: 4, field: 'webhooks.1.name', message: 'webhook "a" is declared twice' },
    ]);
  });
  it('should route by cloud and by approver group, and keep approverGroups to approval.needed', () => {
    const config = parseNotificationsConfig(
      [
        'webhooks:',
        '  - name: sre-approvals',
        '    url: https://hooks.example.com/sre',
        '    events: [approval.needed]',
        '    approverGroups: [sre]',
        '  - name: aws-oncall',
        '    url: https://hooks.example.com/aws',
        '    clouds: [aws]',
      ].join('\n'),
      'notifications.yaml',
      ENV,
    );
    const [sre, aws] = config.webhooks;
    const event = (type: string, cloud: string, data: Record<string, unknown>) => ({ type, cloud, data }) as unknown as AuditEvent;
    const needed = (cloud: string, groups: string[]): Notification => ({
      type: 'approval.needed',
      severity: 'info',
      event: event('grant.requested', cloud, { approval: { mode: 'approvals', groups } }),
    });
    expect(webhookWants(sre, needed('gcp', ['sre', 'security']))).toBe(true);
    expect(webhookWants(sre, needed('gcp', ['security']))).toBe(false);
    expect(webhookWants(aws, needed('aws', ['security']))).toBe(true);
    expect(webhookWants(aws, needed('gcp', ['sre']))).toBe(false);
    expect(webhookWants(sre, { type: 'grant.granted', severity: 'info', event: event('grant.activated', 'gcp', {}) })).toBe(false);

    expect(
      issues(['webhooks:', '  - name: x', '    url: https://hooks.example.com/x', '    approverGroups: [sre]', '    clouds: [oracle]'].join('\n')).map((i) => i.field),
    ).toEqual(['webhooks.0.clouds.0']);
    expect(issues(['webhooks:', '  - name: x', '    url: https://hooks.example.com/x', '    approverGroups: [sre]'].join('\n'))).toEqual([
      expect.objectContaining({ field: 'webhooks.0.approverGroups', message: expect.stringContaining('set events: [approval.needed]') }),
    ]);
  });
});
