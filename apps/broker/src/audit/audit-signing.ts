import { Logger } from '@nestjs/common';
import { readFileSync, statSync } from 'node:fs';
import { CheckpointKeyring, CheckpointSigner, CheckpointSink, JsonlFileCheckpointSink, WebhookCheckpointSink } from '@jit/audit';
import { AuditSigningConfig, ConfigError } from '@jit/config';

export interface AuditSigning {
  signer: CheckpointSigner;
  keyring: CheckpointKeyring;
  sinks: CheckpointSink[];
}

/** The owner, group and mode of a file, as `fs.statSync` gives them. */
export interface FileOwnership {
  mode: number;
  uid: number;
  gid: number;
}

/**
 * The accounts other than `uid` that belong to group `gid`: those whose primary group it is
 * (`/etc/passwd`) and those listed as its members (`/etc/group`). Takes the files' text, so it
 * is a pure function; a group or user known only to NSS (LDAP, SSSD) is not seen.
 */
export function otherGroupMembers(gid: number, uid: number, etcPasswd: string, etcGroup: string): string[] {
  const users = etcPasswd
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 4 && !f[0].startsWith('#'))
    .map(([name, , u, g]) => ({ name, uid: Number(u), gid: Number(g) }));
  const self = new Set(users.filter((u) => u.uid === uid).map((u) => u.name));
  const others = new Set(users.filter((u) => u.gid === gid && u.uid !== uid).map((u) => u.name));
  for (const line of etcGroup.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || f[0].startsWith('#') || Number(f[2]) !== gid) continue;
    for (const m of f[3].split(',').map((x) => x.trim())) if (m && !self.has(m)) others.add(m);
  }
  return [...others].sort();
}

/** `otherGroupMembers` from this machine's (or container's) `/etc/passwd` and `/etc/group`; a missing file counts as empty. */
export function localGroupMembers(gid: number, uid: number): string[] {
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  return otherGroupMembers(gid, uid, read('/etc/passwd'), read('/etc/group'));
}

/**
 * Who besides this process (and root) could read or replace the signing key, as the end of a
 * warning, or null when nobody could. Read by the owner is fine when the owner is this process's
 * user or root. Read by the group is fine only when the group is this process's own (primary)
 * group AND no other account belongs to it (`othersInGroup`, from /etc/passwd and /etc/group):
 * on Kubernetes the kubelet makes a Secret's files root's, in the pod's `fsGroup`, and adds the
 * group's read bit whatever `defaultMode` says (kubernetes/kubernetes#57923), so with
 * `runAsGroup` equal to `fsGroup` (a gid the image's account files do not name) a `0440` key is
 * readable by the pod's own processes only; on a host, a user's private group (Debian's default)
 * holds that user alone, while a shared primary group such as `users` holds others, who could
 * read the key. Any other group, a shared group, a group write or execute bit, a bit for others,
 * or another user owning the file is reported. Without uid and gid (Windows), only the bits for
 * others count.
 */
export function keyFileExposure(
  file: FileOwnership,
  uid: number | undefined,
  gid: number | undefined,
  othersInGroup: (gid: number, uid: number) => readonly string[] = localGroupMembers,
): string | null {
  if ((file.mode & 0o007) !== 0) return 'is readable by other users; chmod 600 it';
  if (uid === undefined || gid === undefined) return null;
  if (file.uid !== uid && file.uid !== 0) return `is owned by uid ${file.uid}, not this process's uid ${uid} or root; chown ${uid} it`;
  if ((file.mode & 0o030) !== 0) return `is writable or executable by group ${file.gid}; chmod 600 it`;
  if ((file.mode & 0o040) === 0) return null;
  if (file.gid !== gid) {
    return `is readable by group ${file.gid}, which is not this process's group ${gid}; chmod 600 it, or on Kubernetes set runAsGroup equal to fsGroup`;
  }
  const others = othersInGroup(gid, uid);
  if (others.length > 0) {
    const named = others.length > 5 ? `${others.slice(0, 5).join(', ')} and ${others.length - 5} more` : others.join(', ');
    return `is readable by group ${gid}, which other accounts share (${named}); chmod 600 it`;
  }
  return null;
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
  const exposure = keyFileExposure(statSync(file), process.geteuid?.(), process.getegid?.());
  if (exposure) logger.warn(`JIT_AUDIT_SIGNING_KEY: ${file} ${exposure}`);
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
