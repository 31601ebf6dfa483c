import { RelayDestination } from '../audit-relay';
import { HttpCollectorDestination } from './http-collector.destination';
import { OcsfOptions } from './ocsf.mapper';
import { SiemConfig } from './siem.config';
import { SyslogDestination } from './syslog.destination';

/** Each configured SIEM as a destination of the audit relay (cursor `siem:<name>`, every event, never given up). */
export function siemDestinations(configs: readonly SiemConfig[], ocsf: OcsfOptions = {}): RelayDestination[] {
  return configs.map((c) => (c.type === 'syslog' ? new SyslogDestination(c, ocsf) : new HttpCollectorDestination(c, ocsf)));
}
