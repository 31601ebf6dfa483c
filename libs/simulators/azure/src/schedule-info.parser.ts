import { parse as parseDuration } from 'tinyduration';
import { SimHttpError, isObject } from './sim-http';

export interface ParsedSchedule {
  start: Date;
  end: Date | null;
}

/**
 * Reads `scheduleInfo` the way each API accepts it. Graph's `expirationPatternType` members
 * are camelCase and documented examples also send PascalCase, so Graph accepts both; ARM's
 * `Type` enum is PascalCase (`AfterDuration`, `AfterDateTime`, `NoExpiration`) and nothing else.
 */
export function parseScheduleInfo(value: unknown, api: 'graph' | 'arm', now = new Date()): ParsedSchedule {
  const info = value ?? {};
  if (!isObject(info)) throw invalid('scheduleInfo must be an object');
  const start = info.startDateTime === undefined || info.startDateTime === null ? now : parseDate(info.startDateTime, 'scheduleInfo.startDateTime');
  const expiration = info.expiration;
  if (expiration === undefined || expiration === null) return { start, end: null };
  if (!isObject(expiration)) throw invalid('scheduleInfo.expiration must be an object');
  const type = normaliseType(expiration.type, api);
  switch (type) {
    case 'noExpiration':
    case 'notSpecified':
      return { start, end: null };
    case 'afterDateTime': {
      const end = parseDate(expiration.endDateTime, 'scheduleInfo.expiration.endDateTime');
      if (end <= start) throw invalid('scheduleInfo.expiration.endDateTime must be after startDateTime');
      return { start, end };
    }
    case 'afterDuration': {
      const seconds = durationSeconds(expiration.duration);
      return { start, end: new Date(start.getTime() + seconds * 1000) };
    }
  }
}

function normaliseType(type: unknown, api: 'graph' | 'arm'): 'noExpiration' | 'notSpecified' | 'afterDateTime' | 'afterDuration' {
  const arm = { AfterDuration: 'afterDuration', AfterDateTime: 'afterDateTime', NoExpiration: 'noExpiration' } as const;
  if (api === 'arm') {
    if (typeof type === 'string' && type in arm) return arm[type as keyof typeof arm];
    throw invalid(`scheduleInfo.expiration.type '${String(type)}' is not one of AfterDuration, AfterDateTime, NoExpiration`);
  }
  const graph = ['notSpecified', 'noExpiration', 'afterDateTime', 'afterDuration'] as const;
  const found = graph.find((g) => typeof type === 'string' && g.toLowerCase() === type.toLowerCase());
  if (!found) throw invalid(`scheduleInfo.expiration.type '${String(type)}' is not a member of expirationPatternType`);
  return found;
}

function durationSeconds(value: unknown): number {
  if (typeof value !== 'string') throw invalid('scheduleInfo.expiration.duration is required for afterDuration');
  try {
    const d = parseDuration(value);
    if (d.negative || d.years || d.months) throw new Error('unsupported');
    const s = (d.weeks ?? 0) * 604800 + (d.days ?? 0) * 86400 + (d.hours ?? 0) * 3600 + (d.minutes ?? 0) * 60 + (d.seconds ?? 0);
    if (!(s > 0)) throw new Error('zero');
    return s;
  } catch {
    throw invalid(`scheduleInfo.expiration.duration '${value}' is not a positive ISO-8601 duration`);
  }
}

function parseDate(value: unknown, field: string): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw invalid(`${field} must be an ISO-8601 date-time with an offset`);
  }
  return new Date(value);
}

function invalid(message: string): SimHttpError {
  return new SimHttpError(400, 'InvalidRequest', message);
}
