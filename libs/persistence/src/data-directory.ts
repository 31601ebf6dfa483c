import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The embedded database's folder is unusable as it stands; the message names it and the fix. */
export class DataDirectoryError extends Error {}

/** Group and other permission bits: the embedded database's files are for the broker's user only. */
const GROUP_OTHER = 0o077;
const GROUP_OTHER_WRITE = 0o022;

/**
 * Makes `dir` fit to hold the embedded database: created `0700` when missing; refused when
 * another user owns it or group or others may write it (they could swap its files and so
 * rewrite the audit log); otherwise tightened to `0700`. From here on the process creates
 * files without group or other bits (umask 077), since PostgreSQL keeps adding files.
 */
export function prepareDataDirectory(dir: string): void {
  const path = resolve(dir);
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(path, { recursive: true, mode: 0o700 });
    stat = statSync(path);
  }
  if (!stat.isDirectory()) throw new DataDirectoryError(`data directory ${path} is not a directory (JIT_DATA_DIR)`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new DataDirectoryError(
      `data directory ${path} is owned by uid ${stat.uid}, not by the broker's user (uid ${uid}); ` +
        `run the broker as its owner, or: chown ${uid} ${path} && chmod 700 ${path}`,
    );
  }
  if (stat.mode & GROUP_OTHER_WRITE) {
    throw new DataDirectoryError(
      `data directory ${path} is writable by ${stat.mode & 0o002 ? 'others' : 'its group'} (mode ${(stat.mode & 0o777).toString(8)}): ` +
        `anyone who can write it can rewrite the database and its audit log; run: chmod 700 ${path}`,
    );
  }
  chmodSync(path, 0o700);
  process.umask(process.umask() | GROUP_OTHER);
}

/**
 * Takes group and other bits off everything under `dir` (not following links): PGlite
 * unpacks its initial cluster world-writable (0666), whatever the umask.
 */
export function restrictDataDirectory(dir: string): void {
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (!stat.isSymbolicLink() && stat.mode & GROUP_OTHER) chmodSync(path, stat.mode & 0o7700 & ~GROUP_OTHER);
  }
}
