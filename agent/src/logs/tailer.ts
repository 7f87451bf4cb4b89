import fs from 'node:fs';
import path from 'node:path';
import type { Position } from './positions.js';

export interface LogSource { path: string; name?: string }

/** One line read from a file, with where to resume after it. */
export interface TailedLine {
  /** The name the line is shipped under (the source's name, or its path). */
  file: string;
  /** The source's path: the key of its position. */
  src: string;
  ts: number;
  line: string;
  /** Identity of the file the line came from, and the byte offset just after it. */
  id: string;
  off: number;
}

export interface TailerOptions {
  /** Longer lines are cut to this many bytes (at a character boundary). */
  maxLineBytes?: number;
  /** Bytes read per poll at most, over all files: a large backlog is read over several polls. */
  maxReadBytes?: number;
}

interface Tail {
  src: LogSource;
  name: string;
  fd: number | null;
  /** `device:inode` of the open file; '' when none is open. */
  id: string;
  /** Next byte to read. */
  pos: number;
  /** Where the unfinished line starts: everything before it has been emitted. */
  start: number;
  /** The unfinished line's bytes so far (at most maxLineBytes + 1). */
  partial: Buffer | null;
}

const idOf = (st: fs.BigIntStats) => `${st.dev}:${st.ino}`;

/**
 * Follows log files like `tail -F`: reads what is appended, and on rotation
 * (a new inode at the path, or the file shrinking after copytruncate)
 * finishes the old file and starts the new one at its beginning. It keeps no
 * lines: each goes to `emit` together with its resume position, and
 * positions() says where to resume every file — persisting them is the
 * caller's business.
 */
export class LogTailer {
  private readonly tails: Tail[];
  private readonly maxLineBytes: number;
  private readonly maxReadBytes: number;
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private budget = 0;

  /**
   * `saved`: positions from an earlier run. A source without one starts at
   * the end of its file (a first start doesn't ship the whole history).
   */
  constructor(sources: LogSource[], saved: Record<string, Position> = {}, o: TailerOptions = {}) {
    this.maxLineBytes = o.maxLineBytes ?? 8192;
    this.maxReadBytes = o.maxReadBytes ?? 4 * 1024 * 1024;
    this.tails = sources.map((src) => ({ src, name: src.name ?? src.path, fd: null, id: '', pos: 0, start: 0, partial: null }));
    for (const t of this.tails) this.resume(t, saved[t.src.path]);
  }

  private resume(t: Tail, p: Position | undefined): void {
    if (!p) {
      if (this.open(t, t.src.path)) t.pos = t.start = fs.fstatSync(t.fd!).size;
      return;
    }
    if (!p.id) return; // it was not there: read it from its start when it appears
    if (this.open(t, t.src.path) && t.id === p.id) {
      // Shorter than where we were: truncated while we were away.
      t.pos = t.start = fs.fstatSync(t.fd!).size >= p.off ? p.off : 0;
      return;
    }
    this.closeFd(t);
    // Rotated while we were away: finish the old file if it is still next to the path (app.log.1, app.log-20240101…).
    const old = findById(t.src.path, p.id);
    if (old !== null) {
      t.fd = old;
      t.id = p.id;
      t.pos = t.start = fs.fstatSync(old).size >= p.off ? p.off : 0;
    }
    // Otherwise the file at the path is new to us: poll() reads it from its start.
  }

  private open(t: Tail, file: string): boolean {
    try {
      const fd = fs.openSync(file, 'r');
      t.fd = fd;
      t.id = idOf(fs.fstatSync(fd, { bigint: true }));
      t.pos = t.start = 0;
      t.partial = null;
      return true;
    } catch {
      t.fd = null;
      t.id = '';
      return false;
    }
  }

  private closeFd(t: Tail): void {
    if (t.fd !== null) fs.closeSync(t.fd);
    t.fd = null;
    t.id = '';
    t.pos = t.start = 0;
    t.partial = null;
  }

  /** Reads what was appended since the last poll, handling rotation; every complete line goes to `emit`. */
  poll(emit: (line: TailedLine) => void): void {
    this.budget = this.maxReadBytes;
    for (const t of this.tails) {
      try {
        this.pollOne(t, emit);
      } catch {
        // unreadable right now (permissions, I/O error): try again on the next poll from the same place
      }
    }
  }

  private pollOne(t: Tail, emit: (line: TailedLine) => void): void {
    if (t.fd === null && !this.open(t, t.src.path)) return; // not there (yet): from its start once it is
    if (fs.fstatSync(t.fd!).size < t.pos) {
      // Truncated in place (copytruncate): what it held before is gone; start over at 0.
      this.flushPartial(t, emit, 0);
      t.pos = t.start = 0;
    }
    if (!this.drain(t, emit)) return; // budget spent: the rest next poll
    let current: fs.BigIntStats | null;
    try {
      current = fs.statSync(t.src.path, { bigint: true });
    } catch {
      current = null; // rotated away, new file not created yet
    }
    if (current && idOf(current) === t.id) return;
    // Rotated: the old file is read to its end, so its unfinished last line is complete.
    this.flushPartial(t, emit, t.pos);
    this.closeFd(t);
    if (current && this.open(t, t.src.path)) this.drain(t, emit);
  }

  /** Reads to the end of the file or of the budget; true at the end of the file. */
  private drain(t: Tail, emit: (line: TailedLine) => void): boolean {
    for (;;) {
      if (this.budget <= 0) return false;
      const n = fs.readSync(t.fd!, this.buf, 0, Math.min(this.buf.length, this.budget), t.pos);
      if (n <= 0) return true;
      const chunk = this.buf.subarray(0, n);
      const base = t.pos;
      t.pos += n;
      this.budget -= n;
      let from = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
        const line = this.join(t.partial, chunk.subarray(from, nl));
        t.partial = null;
        t.start = base + nl + 1;
        emit({ file: t.name, src: t.src.path, ts: Date.now(), line, id: t.id, off: t.start });
        from = nl + 1;
      }
      // The read buffer is reused: keep a copy of the unfinished line, capped.
      if (from < n) t.partial = this.capped(t.partial, chunk.subarray(from));
    }
  }

  /** One byte more than a line may have, so cutUtf8 sees that it must cut (and where a character starts). */
  private capped(partial: Buffer | null, more: Buffer): Buffer {
    const have = partial?.length ?? 0;
    const cap = this.maxLineBytes + 1;
    if (have >= cap) return partial!;
    const add = more.subarray(0, cap - have);
    return partial ? Buffer.concat([partial, add]) : Buffer.from(add);
  }

  private join(partial: Buffer | null, rest: Buffer): string {
    const bytes = partial ? this.capped(partial, rest) : rest;
    return cutUtf8(bytes, this.maxLineBytes);
  }

  /** Emits the unfinished line of a file that will not grow any more, resuming at `off` after it. */
  private flushPartial(t: Tail, emit: (line: TailedLine) => void, off: number): void {
    if (!t.partial?.length) return;
    const line = cutUtf8(t.partial, this.maxLineBytes);
    t.partial = null;
    t.start = off;
    emit({ file: t.name, src: t.src.path, ts: Date.now(), line, id: t.id, off });
  }

  /** Where to resume each source: the file and the offset after the last emitted line. */
  positions(): Record<string, Position> {
    const out: Record<string, Position> = {};
    for (const t of this.tails) out[t.src.path] = { id: t.id, off: t.id ? t.start : 0 };
    return out;
  }

  close(): void {
    for (const t of this.tails) this.closeFd(t);
  }
}

/** At most `max` bytes as text, not splitting a UTF-8 character. */
function cutUtf8(bytes: Buffer, max: number): string {
  if (bytes.length <= max) return bytes.toString('utf8');
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // a continuation byte: the character started earlier
  return bytes.toString('utf8', 0, end);
}

/** Opens the file next to `file` (a rotated copy by name) with this identity, if there is one. */
function findById(file: string, id: string): number | null {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    if (name === base || !name.startsWith(base)) continue;
    try {
      if (idOf(fs.statSync(path.join(dir, name), { bigint: true })) !== id) continue;
      const fd = fs.openSync(path.join(dir, name), 'r');
      if (idOf(fs.fstatSync(fd, { bigint: true })) === id) return fd;
      fs.closeSync(fd);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}
