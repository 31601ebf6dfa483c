import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@jit/persistence';

const mode = (path: string) => statSync(path).mode & 0o777;

/** Every path under `dir` whose mode has a group or other bit. */
function exposed(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((name) => mode(join(dir, name)) & 0o077).map((n) => `${n} ${mode(join(dir, n)).toString(8)}`);
}

/** Inodes of the TCP sockets this process listens on (Linux /proc). */
function ownTcpListeners(): Set<string> {
  const own = new Set(readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } }));
  const listening = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
    readFileSync(f, 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((c) => c[3] === '0A').map((c) => c[9]),
  );
  return new Set(listening.filter((inode) => own.has(`socket:[${inode}]`)));
}

/** Issue 10 point 7: the embedded database's folder is the broker user's alone. */
describe('embedded database folder permissions', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'jit-datadir-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('should create a missing folder 0700, and leave no file or folder in it readable by group or others', async () => {
    const dir = join(root, 'nested', 'data');
    const db = await openDatabase(undefined, dir);
    try {
      await db.dataSource.query(`CREATE TABLE t AS SELECT g, repeat('x', 500) AS v FROM generate_series(1, 2000) g`);
      await db.dataSource.query('CHECKPOINT');
      expect(mode(dir)).toBe(0o700);
      expect(exposed(dir)).toEqual([]);
    } finally {
      await db.close();
    }
    expect(exposed(dir)).toEqual([]);
  });

  it('should tighten a folder that others can only read, and the files already in it', async () => {
    const dir = join(root, 'data');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'left-over'), 'x', { mode: 0o644 });
    chmodSync(join(dir, 'left-over'), 0o666);
    const db = await openDatabase(undefined, dir);
    await db.close();
    expect(mode(dir)).toBe(0o700);
    expect(exposed(dir)).toEqual([]);
  });

  it.each([
    ['777', 'others'],
    ['770', 'its group'],
    ['703', 'others'],
  ])('should refuse to start on a folder of mode %s, writable by %s, naming it and the fix', async (bits, who) => {
    const dir = join(root, 'shared');
    mkdirSync(dir);
    chmodSync(dir, parseInt(bits, 8));
    await expect(openDatabase(undefined, dir)).rejects.toThrow(`data directory ${dir} is writable by ${who}`);
    await expect(openDatabase(undefined, dir)).rejects.toThrow(`run: chmod 700 ${dir}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  // Only root can give a folder away; elsewhere the check is the same code path as above.
  (process.getuid?.() === 0 ? it : it.skip)('should refuse a folder another user owns, even a private one', async () => {
    const dir = join(root, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    await expect(openDatabase(undefined, dir)).rejects.toThrow(`data directory ${dir} is owned by uid 65534, not by the broker's user (uid 0)`);
  });

  (process.platform === 'linux' ? it : it.skip)('should serve the embedded database on a Unix socket in a private folder, not on a TCP port any local user could reach', async () => {
    const socketDirs = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('jit-pglite-')));
    const [tcpBefore, dirsBefore] = [ownTcpListeners(), socketDirs()];
    const db = await openDatabase(undefined, join(root, 'data'));
    try {
      expect(await db.dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect([...ownTcpListeners()].filter((i) => !tcpBefore.has(i))).toEqual([]);
      const mine = [...socketDirs()].filter((d) => !dirsBefore.has(d) && readdirSync(join(tmpdir(), d)).includes('.s.PGSQL.5432'));
      expect(mine.length).toBeGreaterThan(0);
      for (const d of mine) expect(mode(join(tmpdir(), d))).toBe(0o700);
    } finally {
      await db.close();
    }
  });

  it('should refuse a path that is not a folder', async () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    await expect(openDatabase(undefined, file)).rejects.toThrow(`data directory ${file} is not a directory`);
  });
});
