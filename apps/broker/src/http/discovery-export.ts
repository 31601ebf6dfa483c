import { Logger } from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { DiscoveryFindingResponse } from './dto/discovery.response';

const COLUMNS = [
  'id', 'cloud', 'status', 'privileged', 'reasons', 'principalId', 'principalKind', 'human', 'scope', 'accessType', 'accessName',
  'lastUsedAt', 'neverUsed', 'unusedDays', 'unusedActions', 'since', 'firstSeenAt', 'lastSeenAt', 'resolvedAt', 'key',
];

const logger = new Logger('DiscoveryExport');

function csvRow(f: DiscoveryFindingResponse) {
  return {
    id: f.id,
    cloud: f.cloud,
    status: f.status,
    privileged: f.privileged,
    reasons: f.reasons.join('; '),
    principalId: f.principal.id,
    principalKind: f.principal.kind,
    human: f.principal.human === null ? '' : f.principal.human,
    scope: f.scope,
    accessType: f.access.type,
    accessName: f.access.name,
    lastUsedAt: f.lastUsedAt ?? '',
    neverUsed: f.neverUsed,
    unusedDays: f.unusedDays ?? '',
    unusedActions: f.usage?.unused.join(' ') ?? '',
    since: f.since ?? '',
    firstSeenAt: f.firstSeenAt,
    lastSeenAt: f.lastSeenAt,
    resolvedAt: f.resolvedAt ?? '',
    key: f.key,
  };
}

/**
 * Streams findings as JSON lines or CSV, a page at a time with back-pressure; CSV cells that a
 * spreadsheet would run as formulas get a leading `'` (as the audit export's).
 */
export async function sendFindingsExport(pages: AsyncIterable<DiscoveryFindingResponse[]>, format: 'jsonl' | 'csv', res: ServerResponse): Promise<void> {
  res.statusCode = 200;
  res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="discovery-findings.${format}"`);
  let header = true;
  try {
    for await (const page of pages) {
      const chunk =
        format === 'csv'
          ? stringify(page.map(csvRow), { header, columns: COLUMNS, escape_formulas: true })
          : page.map((f) => `${JSON.stringify(f)}\n`).join('');
      header = false;
      if (!res.write(chunk)) await once(res, 'drain');
      if (res.destroyed) return;
    }
    if (format === 'csv' && header) res.write(stringify([], { header: true, columns: COLUMNS }));
    res.end();
  } catch (e) {
    logger.warn(`findings export (${format}) cut short: ${e instanceof Error ? e.message : String(e)}`);
    res.destroy();
  }
}
