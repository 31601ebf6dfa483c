import { CampaignReport, ReportRow } from '@jit/reviews';
import { escapeHtml, reportCsv, reportHtml } from './review-report';

const row = (over: Partial<ReportRow>): ReportRow => ({
  id: '0b7c6f2e-3a53-4f6e-9d0e-5d2f8b1c4a10',
  campaignId: '5f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b',
  source: 'standing',
  principal: 'arn:aws:iam::1:user/alice',
  principalSubjects: [],
  principalGroups: [],
  principalKind: 'user',
  displayName: null,
  cloud: 'aws',
  access: 'AdministratorAccess',
  scope: 'aws:1',
  since: null,
  lastUsedAt: null,
  findingId: 'f1',
  privileged: true,
  reasons: [],
  rule: null,
  requesterIndex: null,
  requested: 1,
  granted: 1,
  detail: null,
  reviewerGroups: ['sre'],
  decision: 'keep',
  defaulted: false,
  justification: 'fine',
  narrowing: null,
  decidedBy: 'dave',
  decidedAt: new Date('2027-01-02T00:00:00Z'),
  applied: 'none',
  appliedAt: null,
  applyError: null,
  escalatedAt: null,
  removalState: null,
  ...over,
});

const report = (items: ReportRow[], description: string | null = null): CampaignReport => ({
  campaign: {
    id: '5f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b',
    definition: 'quarterly',
    description,
    state: 'closed',
    startedBy: 'admin',
    startedAt: new Date('2027-01-01T09:00:00Z'),
    endsAt: new Date('2027-01-15T09:00:00Z'),
    closedAt: new Date('2027-01-18T09:00:00Z'),
    periodFrom: new Date('2026-10-03T09:00:00Z'),
    defaultDecision: 'keep',
    spec: {},
    remindedAt: null,
    policyVersion: 'abc',
    counts: { total: items.length, decided: items.length, pending: 0 },
    overdue: false,
  },
  items,
  generatedAt: new Date('2027-01-20T00:00:00Z'),
  generatedBy: 'carol-auditor',
});

describe('review report', () => {
  it('should neutralise spreadsheet formulas in every CSV cell and keep the values readable', () => {
    const csv = reportCsv(report([row({ principal: '=HYPERLINK("https://evil.example","x")', justification: '+1 sure, "quoted", and\nnewline', decidedBy: '@admin', access: '-2+3' })]));
    // Raw RFC 4180: a quoted cell doubles its quotes; the formula prefix is inside the quotes.
    expect(csv).toContain('"\'=HYPERLINK(""https://evil.example"",""x"")"');
    expect(csv).toContain('"\'+1 sure, ""quoted"", and\nnewline"');
    expect(csv).toContain(",'@admin,");
    expect(csv).toContain(",'-2+3,");
    expect(csv).toContain(',2027-01-02T00:00:00.000Z,');
    expect(csv.split('\n')[0]).toBe('itemId,source,cloud,principal,principalKind,displayName,access,scope,rule,findingId,privileged,since,lastUsedAt,requested,granted,reviewerGroups,decision,defaulted,justification,narrowing,decidedBy,decidedAt,escalatedAt,applied,appliedAt,applyError,removalState');
  });

  it('should escape every value in the printable HTML, which carries a print stylesheet and no script', () => {
    const html = reportHtml(
      report([row({ principal: '<script>alert(1)</script>', justification: '"><img src=x onerror=alert(2)>', displayName: "O'Brien & co", applyError: '</td><td>' })], '<b>quarterly</b>'),
    );
    expect(html).not.toMatch(/<script|<img|<b>/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('O&#39;Brien &amp; co');
    expect(html).toContain('&lt;/td&gt;&lt;td&gt;');
    expect(html).toContain('@media print');
    expect(escapeHtml(null)).toBe('');
  });
});
