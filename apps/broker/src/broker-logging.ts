import { LogLevel, Logger } from '@nestjs/common';
import { Logger as Pino } from 'pino';
import { BrokerConfig } from '@jit/config';
import { LogLevelName, LogRedactor, ScopedLogger, createBrokerLogger } from '@jit/observability';

/** The broker's logging: the root pino logger, what Nest's `Logger` writes through, and the redactor its lines pass. */
export interface BrokerLogging {
  root: Pino;
  nest: ScopedLogger;
  redactor: LogRedactor;
}

/** Variables whose value is a credential by their name (files, paths and URLs are not; URLs give up their password below). */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|API_?KEY|ACCESS_KEY|PRIVATE_KEY|OTLP_HEADERS)/i;
const NOT_A_VALUE = /(_FILE|_PATH|_DIR|_URL|_ENDPOINT)$/i;

/** Nest's list of levels (tests and the sandbox pass one) as pino's lowest level. */
function lowestLevel(levels: LogLevel[]): LogLevelName {
  const order: [LogLevel, LogLevelName][] = [['verbose', 'trace'], ['debug', 'debug'], ['log', 'info'], ['warn', 'warn'], ['error', 'error'], ['fatal', 'fatal']];
  return order.find(([nest]) => levels.includes(nest))?.[1] ?? 'silent';
}

/**
 * Starts the broker's logs (JIT_LOG_LEVEL, JIT_LOG_FORMAT; `logLevels`, when given, overrides the
 * level) and routes every `new Logger(...)` of the app through them. The redactor knows every
 * secret of the environment (by variable name, the password of every URL) and the admin token;
 * the composition root adds the webhook secrets once it has read them.
 */
export function startLogging(config: BrokerConfig, env: NodeJS.ProcessEnv = process.env, logLevels?: LogLevel[]): BrokerLogging {
  const redactor = new LogRedactor().add(config.adminToken).addUrlPassword(config.databaseUrl);
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_NAME.test(name) && !NOT_A_VALUE.test(name)) redactor.add(value);
    if (value.includes('://')) redactor.addUrlPassword(value);
  }
  if (config.audit.checkpointWebhookUrl) redactor.add(config.audit.checkpointWebhookUrl);
  const root = createBrokerLogger({
    level: logLevels ? lowestLevel(logLevels) : config.observability.logLevel,
    format: config.observability.logFormat,
    redactor,
  });
  const nest = new ScopedLogger(root);
  Logger.overrideLogger(nest);
  return { root, nest, redactor };
}
