import { Logger } from '@nestjs/common';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFileExposure, loadAuditSigning, localGroupMembers, otherGroupMembers } from './audit-signing';

const ME = { uid: 1000, gid: 1000 };
/** A private group (Debian's default for a user), or a Kubernetes fsGroup no account file names. */
const alone = () => [];
const exposure = (mode: number, uid: number, gid: number, others: () => readonly string[] = alone) =>
  keyFileExposure({ mode: 0o100000 | mode, uid, gid }, ME.uid, ME.gid, others);

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  'alice:x:1000:1000:Alice:/home/alice:/bin/bash',
  'bob:x:1001:100:Bob:/home/bob:/bin/bash',
  'carol:x:1002:100:Carol:/home/carol:/bin/bash',
  'jit:x:1003:100::/srv/jit:/usr/sbin/nologin',
].join('\n');
const GROUP = ['root:x:0:', 'users:x:100:dave,jit', 'alice:x:1000:', 'audit:x:2000:alice', ''].join('\n');

describe('keyFileExposure', () => {
  it('accepts a key only this user, root and this process\'s own group can read', () => {
    expect(exposure(0o600, 1000, 1000)).toBeNull();
    expect(exposure(0o400, 1000, 1000)).toBeNull();
    // Kubernetes: a Secret's file is root's, in the pod's fsGroup, 0440 whatever defaultMode says.
    expect(exposure(0o440, 0, 1000)).toBeNull();
    expect(exposure(0o640, 1000, 1000)).toBeNull();
  });

  it('names a group that is not this process\'s, a group write bit, another owner and any bit for others', () => {
    expect(exposure(0o440, 0, 2000)).toBe('is readable by group 2000, which is not this process\'s group 1000; chmod 600 it, or on Kubernetes set runAsGroup equal to fsGroup');
    expect(exposure(0o460, 0, 1000)).toBe('is writable or executable by group 1000; chmod 600 it');
    expect(exposure(0o410, 1000, 1000)).toBe('is writable or executable by group 1000; chmod 600 it');
    expect(exposure(0o400, 1001, 1000)).toBe('is owned by uid 1001, not this process\'s uid 1000 or root; chown 1000 it');
    for (const mode of [0o444, 0o604, 0o602, 0o601, 0o644]) expect(exposure(mode, 1000, 1000)).toBe('is readable by other users; chmod 600 it');
  });

  it("names the other accounts of the process's own group when it is shared (a host whose primary group is users)", () => {
    const users = () => ['bob', 'carol', 'dave'];
    expect(exposure(0o440, 0, 1000, users)).toBe('is readable by group 1000, which other accounts share (bob, carol, dave); chmod 600 it');
    expect(exposure(0o640, 1000, 1000, users)).toBe('is readable by group 1000, which other accounts share (bob, carol, dave); chmod 600 it');
    // Not readable by the group: who else is in it does not matter.
    expect(exposure(0o600, 1000, 1000, users)).toBeNull();
    const many = () => ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    expect(exposure(0o640, 1000, 1000, many)).toBe('is readable by group 1000, which other accounts share (a, b, c, d, e and 2 more); chmod 600 it');
  });

  it('counts only the bits for others where the process has no uid or gid (Windows)', () => {
    expect(keyFileExposure({ mode: 0o440, uid: 0, gid: 2000 }, undefined, undefined)).toBeNull();
    expect(keyFileExposure({ mode: 0o444, uid: 0, gid: 0 }, undefined, undefined)).toBe('is readable by other users; chmod 600 it');
  });
});

describe('otherGroupMembers', () => {
  it('finds the accounts whose primary group it is and its listed members, but not the process itself', () => {
    // jit (uid 1003) in the shared group users: bob and carol by primary group, dave listed.
    expect(otherGroupMembers(100, 1003, PASSWD, GROUP)).toEqual(['bob', 'carol', 'dave']);
    // alice's private group: nobody else.
    expect(otherGroupMembers(1000, 1000, PASSWD, GROUP)).toEqual([]);
    // A group alice is listed in, seen from another uid.
    expect(otherGroupMembers(2000, 1003, PASSWD, GROUP)).toEqual(['alice']);
    // A Kubernetes fsGroup the image's account files do not name.
    expect(otherGroupMembers(4242, 1000, PASSWD, GROUP)).toEqual([]);
    expect(otherGroupMembers(100, 1003, '', '')).toEqual([]);
  });
});

describe('loadAuditSigning on a real key file', () => {
  let dir: string;
  let key: string;
  const warnings: string[] = [];
  const logger = { log: () => undefined, warn: (m: string) => warnings.push(m) } as unknown as Logger;
  const load = () => {
    warnings.length = 0;
    loadAuditSigning(
      { signingKeyFile: key, unsigned: false, trustedKeyFiles: [], checkpointEvery: 100, checkpointIntervalMs: 60_000, checkpointFile: join(dir, 'c.jsonl'), checkpointWebhookUrl: undefined },
      logger,
    );
    return warnings.filter((w) => w.startsWith('JIT_AUDIT_SIGNING_KEY'));
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jit-signing-'));
    key = join(dir, 'audit-signing.pem');
    writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says nothing of a key readable by its owner and the owner\'s own group, and warns of one others can read', () => {
    // Made by this process: its own uid, and its own gid unless the folder's setgid bit says otherwise.
    const ours = statSync(key).gid === process.getegid?.() && localGroupMembers(process.getegid(), process.geteuid!()).length === 0;
    chmodSync(key, 0o600);
    expect(load()).toEqual([]);
    chmodSync(key, 0o440);
    expect(load()).toEqual(ours ? [] : [expect.stringMatching(/is readable by group \d+, which (is not this process's group|other accounts share)/)]);
    chmodSync(key, 0o444);
    expect(load()).toEqual([`JIT_AUDIT_SIGNING_KEY: ${key} is readable by other users; chmod 600 it`]);
    chmodSync(key, 0o460);
    expect(load()).toEqual([expect.stringMatching(/is writable or executable by group \d+; chmod 600 it$/)]);
  });
});
