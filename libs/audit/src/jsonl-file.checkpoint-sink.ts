import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { AuditCheckpoint } from '@jit/domain';
import { checkpointFromJson, checkpointToJson } from './audit-checkpoint';
import { CheckpointSink } from './checkpoint.sink';

/** Parses checkpoint JSON Lines; a line that does not parse (a write cut short by a crash) is counted, not fatal. */
export function parseCheckpointLines(text: string): { checkpoints: AuditCheckpoint[]; unreadable: number } {
  const checkpoints: AuditCheckpoint[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      checkpoints.push(checkpointFromJson(JSON.parse(line)));
    } catch {
      unreadable++;
    }
  }
  return { checkpoints, unreadable };
}

/**
 * Appends each checkpoint as one JSON line to a file opened O_APPEND and synced before the
 * checkpoint counts as published. Point it at storage the database's owner cannot rewrite
 * (another host's mount, a WORM bucket's sync folder, a log shipper's input).
 */
export class JsonlFileCheckpointSink implements CheckpointSink {
  readonly name: string;

  constructor(private readonly path: string) {
    this.name = `file:${path}`;
  }

  async publish(checkpoint: AuditCheckpoint): Promise<void> {
    const file = await open(this.path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o640);
    try {
      // A write cut short by a crash left no newline: start a fresh line, or this checkpoint would join the broken one.
      const { size } = await file.stat();
      const last = Buffer.alloc(1);
      const cut = size > 0 && (await file.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
      await file.write((cut ? '\n' : '') + JSON.stringify(checkpointToJson(checkpoint)) + '\n');
      await file.datasync();
    } finally {
      await file.close();
    }
  }

  async readBack(): Promise<{ checkpoints: AuditCheckpoint[]; unreadable: number }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: [], unreadable: 0 };
      throw e;
    }
    return parseCheckpointLines(text);
  }
}
