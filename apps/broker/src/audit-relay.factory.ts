import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '@jit/domain';
import { AuditRelay, NotificationsConfig, siemDestinations, webhookDestinations } from '@jit/notifications';
import { BrokerMetrics } from '@jit/observability';
import { PostgresNotificationCursorStore } from '@jit/persistence';

/**
 * One audit relay for every outside receiver of the log: the webhooks and the SIEMs of the
 * notifications file, each on its own cursor and lease. Null when the file names none.
 */
export function createAuditRelay(
  notifications: NotificationsConfig,
  deps: { dataSource: DataSource; clock: Clock; owner: string; publicUrl?: string; metrics: BrokerMetrics },
): AuditRelay | null {
  const destinations = [...webhookDestinations(notifications.webhooks, { publicUrl: deps.publicUrl, clock: deps.clock }), ...siemDestinations(notifications.siem)];
  if (!destinations.length) return null;
  const { metrics } = deps;
  return new AuditRelay(destinations, new PostgresNotificationCursorStore(deps.dataSource, deps.clock), {
    owner: deps.owner,
    clock: deps.clock,
    logger: new Logger('Notifications'),
    onOutcome: (d, outcome, count) => {
      if (d.kind === 'webhook') metrics.notifications.inc({ webhook: d.name, outcome });
      else metrics.siemEvents.inc({ destination: d.name, outcome }, count);
    },
    onLag: (d, seconds) => {
      if (d.kind === 'siem') metrics.siemLag.set({ destination: d.name }, seconds);
    },
  });
}
