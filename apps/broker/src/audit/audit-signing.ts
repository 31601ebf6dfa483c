import { Logger } from '@nestjs/common';
import { readFileSync, statSync } from 'node:fs';
import { CheckpointKeyring, CheckpointSigner, CheckpointSink, JsonlFileCheckpointSink, WebhookCheckpointSink } from '@jit/audit';
import { AuditSigningConfig, ConfigError } from '@jit/config';

export interface AuditSigning {
  signer: CheckpointSigner;
  keyring: CheckpointKeyring;
  sinks: CheckpointSink[];
}

/**
 * Loads the checkpoint signing key, the retired keys and the sinks, or explains why the broker
 * will not start: without a key it runs only when told to run unsigned, and says so.
 */
export function loadAuditSigning(config: AuditSigningConfig, logger = new Logger('AuditCheckpoints')): AuditSigning | null {
  if (!config.signingKeyFile) {
    if (!config.unsigned) {
      throw new ConfigError(
        'JIT_AUDIT_SIGNING_KEY is not set. Audit checkpoints need an Ed25519 key kept outside the database ' +
          '(openssl genpkey -algorithm ed25519 -out audit-signing.pem), or set JIT_AUDIT_UNSIGNED=true to run without them.',
      );
    }
    logger.warn(
      'the audit log runs UNSIGNED (JIT_AUDIT_UNSIGNED=true): whoever can write the database can rewrite a tail of it and re-chain it undetected',
    );
    return null;
  }
  if (config.unsigned) throw new ConfigError('JIT_AUDIT_SIGNING_KEY and JIT_AUDIT_UNSIGNED=true contradict each other: set one');
  const file = config.signingKeyFile;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`JIT_AUDIT_SIGNING_KEY: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    logger.warn(`JIT_AUDIT_SIGNING_KEY: ${file} is readable by other users; chmod 600 it`);
  }
  let signer: CheckpointSigner;
  try {
    signer = CheckpointSigner.fromPem(pem, file);
  } catch (e) {
    throw new ConfigError(`JIT_AUDIT_SIGNING_KEY: ${(e as Error).message}`);
  }
  const retired = config.trustedKeyFiles.map((f) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (e) {
      throw new ConfigError(`JIT_AUDIT_TRUSTED_KEYS: cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  });
  let keyring: CheckpointKeyring;
  try {
    keyring = new CheckpointKeyring([signer.publicKeyPem, ...retired]);
  } catch (e) {
    throw new ConfigError(`JIT_AUDIT_TRUSTED_KEYS: ${(e as Error).message}`);
  }
  const sinks: CheckpointSink[] = [];
  if (config.checkpointFile) sinks.push(new JsonlFileCheckpointSink(config.checkpointFile));
  if (config.checkpointWebhookUrl) sinks.push(new WebhookCheckpointSink(config.checkpointWebhookUrl, signer.publicKeyPem));
  logger.log(
    `audit checkpoints signed with Ed25519 key ${signer.keyId.slice(0, 16)}… every ${config.checkpointEvery} events or ` +
      `${config.checkpointIntervalMs / 1000}s, published to ${sinks.length ? sinks.map((s) => s.name).join(', ') : 'the database only'}`,
  );
  if (!sinks.length) {
    logger.warn('no checkpoint sink outside the database: set JIT_AUDIT_CHECKPOINT_FILE or JIT_AUDIT_CHECKPOINT_WEBHOOK_URL');
  }
  return { signer, keyring, sinks };
}
