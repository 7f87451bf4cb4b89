import fs from 'node:fs';

/**
 * Where to resume one log file: its identity (`device:inode`; '' = it was
 * not there, read it from its start when it appears) and the byte offset
 * after the last line that is in the queue. An unfinished last line is not
 * kept here: it is still in the file and is read again from `off`.
 */
export interface Position { id: string; off: number }

/** The positions file: by source path, as of queue sequence number `seq` (the newest line appended when it was written). */
export interface Positions { seq: number; files: Record<string, Position> }

export function loadPositions(file: string): Positions | null {
  try {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Positions;
    if (typeof p?.seq === 'number' && p.files && typeof p.files === 'object') return p;
  } catch {
    // first start (a torn file cannot happen: it is replaced by rename)
  }
  return null;
}

/** Replaces the file atomically (temp file, optionally fdatasync, rename): a crash leaves the old or the new one. */
export function savePositions(file: string, positions: Positions, sync: boolean): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(positions));
    if (sync) fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
