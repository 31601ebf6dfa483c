import { stringify } from 'csv-stringify/sync';
import { CampaignReport, ReportRow } from '@jit/reviews';

/** The report's columns: who reviewed what, when, the decision, and what was applied. */
const COLUMNS: { header: string; value: (r: ReportRow) => string | number | boolean | null }[] = [
  { header: 'itemId', value: (r) => r.id },
  { header: 'source', value: (r) => r.source },
  { header: 'cloud', value: (r) => r.cloud },
  { header: 'principal', value: (r) => r.principal },
  { header: 'principalKind', value: (r) => r.principalKind },
  { header: 'displayName', value: (r) => r.displayName },
  { header: 'access', value: (r) => r.access },
  { header: 'scope', value: (r) => r.scope },
  { header: 'rule', value: (r) => r.rule },
  { header: 'findingId', value: (r) => r.findingId },
  { header: 'privileged', value: (r) => r.privileged },
  { header: 'since', value: (r) => r.since?.toISOString() ?? null },
  { header: 'lastUsedAt', value: (r) => r.lastUsedAt?.toISOString() ?? null },
  { header: 'requested', value: (r) => r.requested },
  { header: 'granted', value: (r) => r.granted },
  { header: 'reviewerGroups', value: (r) => r.reviewerGroups.join(' ') },
  { header: 'decision', value: (r) => r.decision },
  { header: 'defaulted', value: (r) => r.defaulted },
  { header: 'justification', value: (r) => r.justification },
  { header: 'narrowing', value: (r) => (r.narrowing ? JSON.stringify(r.narrowing) : null) },
  { header: 'decidedBy', value: (r) => r.decidedBy },
  { header: 'decidedAt', value: (r) => r.decidedAt?.toISOString() ?? null },
  { header: 'escalatedAt', value: (r) => r.escalatedAt?.toISOString() ?? null },
  { header: 'applied', value: (r) => r.applied },
  { header: 'appliedAt', value: (r) => r.appliedAt?.toISOString() ?? null },
  { header: 'applyError', value: (r) => r.applyError },
  { header: 'removalState', value: (r) => r.removalState },
];

/**
 * The report as CSV, one row per item. As in the audit CSV export, a cell that starts with
 * `= + - @`, a tab or a CR gets a leading `'` (csv-stringify's `escape_formulas`, OWASP CSV
 * injection): a principal or justification such as `=HYPERLINK(...)` shows as text in a spreadsheet.
 */
export function reportCsv(report: CampaignReport): string {
  return stringify(
    report.items.map((r) => COLUMNS.map((c) => c.value(r) ?? '')),
    { header: true, columns: COLUMNS.map((c) => c.header), escape_formulas: true, cast: { boolean: (b) => (b ? 'true' : 'false') } },
  );
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Every value that reaches the page goes through here: text and attribute values alike. */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const when = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—');

/**
 * The report as one self-contained, printable HTML page an auditor can file (print to PDF): the
 * campaign, its counts, and a table of every item with the decision, who made it and when, and
 * what the broker applied. No script, no external resource (a Content-Security-Policy forbids
 * both); every value escaped.
 */
export function reportHtml(report: CampaignReport): string {
  const c = report.campaign;
  const rows = report.items
    .map(
      (r) => `<tr>
<td>${escapeHtml(r.source)}</td>
<td><div>${escapeHtml(r.principal)}</div>${r.displayName ? `<div class="muted">${escapeHtml(r.displayName)}</div>` : ''}</td>
<td><div>${escapeHtml(r.access)}</div><div class="muted">${escapeHtml(r.cloud ?? '')} ${escapeHtml(r.scope)}</div>${r.rule ? `<div class="muted">rule ${escapeHtml(r.rule)}</div>` : ''}</td>
<td>${escapeHtml(when(r.since))}<br>${escapeHtml(when(r.lastUsedAt))}</td>
<td>${escapeHtml(r.requested)} / ${escapeHtml(r.granted)}</td>
<td><strong>${escapeHtml(r.decision ?? 'undecided')}</strong>${r.defaulted ? ' <span class="muted">(default)</span>' : ''}<div>${escapeHtml(r.justification ?? '')}</div>${
        r.narrowing ? `<div class="muted">${escapeHtml(JSON.stringify(r.narrowing))}</div>` : ''
      }</td>
<td>${escapeHtml(r.decidedBy ?? '—')}<br>${escapeHtml(when(r.decidedAt))}${r.escalatedAt ? `<div class="muted">escalated ${escapeHtml(when(r.escalatedAt))}</div>` : ''}</td>
<td>${escapeHtml(r.applied ?? '—')}${r.removalState ? ` <span class="muted">(${escapeHtml(r.removalState)})</span>` : ''}${r.applyError ? `<div class="error">${escapeHtml(r.applyError)}</div>` : ''}</td>
</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Access review ${escapeHtml(c.definition)} ${escapeHtml(c.id)}</title>
<style>
body { font: 12px/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
h1 { font-size: 18px; margin: 0 0 .3em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: 1em 0; }
dt { font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 4px 6px; vertical-align: top; text-align: left; word-break: break-word; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
.muted { color: #555; font-size: 11px; }
.error { color: #a00; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; } a { color: inherit; text-decoration: none; } }
</style>
</head>
<body>
<h1>Access review: ${escapeHtml(c.definition)}</h1>
${c.description ? `<p>${escapeHtml(c.description)}</p>` : ''}
<dl>
<dt>Campaign</dt><dd>${escapeHtml(c.id)}</dd>
<dt>State</dt><dd>${escapeHtml(c.state)}${c.overdue ? ' (overdue)' : ''}</dd>
<dt>Started</dt><dd>${escapeHtml(when(c.startedAt))} by ${escapeHtml(c.startedBy)}</dd>
<dt>Ends</dt><dd>${escapeHtml(when(c.endsAt))}</dd>
<dt>Closed</dt><dd>${escapeHtml(when(c.closedAt))}</dd>
<dt>Usage period</dt><dd>${escapeHtml(when(c.periodFrom))} to ${escapeHtml(when(c.startedAt))}</dd>
<dt>Default decision</dt><dd>${escapeHtml(c.defaultDecision)}</dd>
<dt>Rules version</dt><dd>${escapeHtml(c.policyVersion ?? '—')}</dd>
<dt>Items</dt><dd>${escapeHtml(c.counts.total)} (${escapeHtml(c.counts.decided)} decided, ${escapeHtml(c.counts.pending)} pending)</dd>
<dt>Report</dt><dd>generated ${escapeHtml(when(report.generatedAt))} by ${escapeHtml(report.generatedBy)}</dd>
</dl>
<table>
<thead><tr><th>Source</th><th>Who</th><th>What and where</th><th>Since / last used</th><th>Requested / granted</th><th>Decision</th><th>Decided by, at</th><th>Applied</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
