import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { YamlFileError } from '@jit/config';
import { parseNotificationsConfig } from '../notifications.config';

const ENV = { HEC_TOKEN: '7f1c1f0e-hec-token', ES_KEY: 'ZXM6a2V5', ES_URL: 'https://es.example.com:9200' };

function issues(text: string, env: NodeJS.ProcessEnv = ENV) {
  try {
    parseNotificationsConfig(text, 'notifications.yaml', env);
  } catch (e) {
    if (e instanceof YamlFileError) return e.issues.map(({ field, message }) => ({ field, message }));
    throw e;
  }
  throw new Error('expected an error');
}

describe('siem destinations in the notifications file', () => {
  it('should resolve URLs and secrets from the environment and fill the defaults', () => {
    const { siem, webhooks } = parseNotificationsConfig(
      [
        'siem:',
        '  - name: splunk',
        '    type: splunk-hec',
        '    url: https://splunk.example.com:8088/services/collector/event',
        '    tokenEnv: HEC_TOKEN',
        '    index: security',
        '    maxBatch: 50',
        '  - name: elastic',
        '    type: elastic-bulk',
        '    urlEnv: ES_URL',
        '    apiKeyEnv: ES_KEY',
        '    index: logs-jit.audit-default',
        '  - name: soc-syslog',
        '    type: syslog',
        '    host: syslog.example.com',
      ].join('\n'),
      'notifications.yaml',
      ENV,
    );
    expect(webhooks).toEqual([]);
    expect(siem[0]).toMatchObject({ type: 'splunk-hec', token: ENV.HEC_TOKEN, index: 'security', maxBatch: 50, startAt: 'start', sourcetype: 'ocsf:jit-broker' });
    expect(siem[1]).toMatchObject({ type: 'elastic-bulk', url: ENV.ES_URL, apiKey: ENV.ES_KEY, maxBatch: 100 });
    expect(siem[2]).toMatchObject({ type: 'syslog', port: 6514, servername: 'syslog.example.com', facility: 13, sdId: 'jit@32473' });
  });

  it('should name a missing secret, plain http to another host, an unreadable CA file, and a second destination of one name', () => {
    expect(
      issues(
        [
          'siem:',
          '  - name: a',
          '    type: splunk-hec',
          '    url: http://splunk.example.com/services/collector/event',
          '    tokenEnv: NOT_SET',
          '    caFile: /nonexistent/ca.pem',
        ].join('\n'),
      ),
    ).toEqual([
      { field: 'siem.0.caFile', message: 'cannot read /nonexistent/ca.pem: ENOENT' },
      { field: 'siem.0.url', message: 'must use https (http is accepted only for a loopback host)' },
      { field: 'siem.0.tokenEnv', message: 'environment variable NOT_SET is not set' },
    ]);
    expect(issues('siem:\n  - name: s\n    type: syslog\n    host: h.example.com\n    certFile: /etc/c.pem\n')).toEqual([
      { field: 'siem.0.keyFile', message: 'set both certFile and keyFile, or neither' },
    ]);
    const twice = 'siem:\n' + '  - name: a\n    type: json-lines\n    url: http://127.0.0.1:9000/ingest\n'.repeat(2);
    expect(issues(twice)).toEqual([{ field: 'siem.1.name', message: 'SIEM destination "a" is declared twice' }]);
  });

  it('should refuse an unknown type and a secret written inline', () => {
    expect(issues('siem:\n  - name: a\n    type: kafka\n')[0].field).toBe('siem.0.type');
    expect(issues('siem:\n  - name: a\n    type: json-lines\n    url: https://x.example.com\n    token: inline\n')[0].message).toMatch(/token/);
  });

  it('should accept the example notifications file', () => {
    const file = join(__dirname, '..', '..', '..', '..', 'examples', 'notifications.example.yaml');
    const env = {
      JIT_SLACK_SRE_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/X',
      JIT_ONCALL_WEBHOOK_SECRET: 'whsec-0123456789abcdef',
      JIT_SPLUNK_HEC_TOKEN: 'hec',
      JIT_ELASTIC_URL: 'https://es.example.com:9200',
      JIT_ELASTIC_API_KEY: 'key',
    };
    const config = parseNotificationsConfig(readFileSync(file, 'utf8'), file, env);
    expect(config.webhooks.map((w) => w.name)).toEqual(['approvers-slack', 'security-oncall']);
    expect(config.siem.map((d) => d.type)).toEqual(['splunk-hec', 'elastic-bulk', 'syslog']);
  });
});
