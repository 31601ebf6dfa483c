import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@jit/persistence';

const mode = (path: string) => statSync(path).mode & 0o777;

/** Every path under `dir` whose mode has a group or other bit. */
function exposed(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((name) => mode(join(dir, name)) & 0o077).map((n) => `${n} ${mode(join(dir, n)).toString(8)}`);
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

  it('should refuse a path that is not a folder', async () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    await expect(openDatabase(undefined, file)).rejects.toThrow(`data directory ${file} is not a directory`);
  });
});
