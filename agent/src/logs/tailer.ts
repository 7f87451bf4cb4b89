import fs from 'node:fs';

export interface LogSource { path: string; name?: string }
export interface LogBatch { file: string; lines: Array<{ ts: number; line: string }>; dropped: number }

interface Tail { src: LogSource; fd: number | null; ino: number; pos: number; partial: string }

/**
 * Follows log files like `tail -F`: starts at the current end, reads what is
 * appended, and on rotation (a new inode at the path, or the file shrinking
 * after truncation) finishes the old file and starts the new one at its
 * beginning. Lines wait in a bounded queue until shipped; when it is full the
 * oldest are dropped and counted.
 */
export class LogTailer {
  private readonly tails: Tail[];
  private queue: Array<{ file: string; ts: number; line: string }> = [];
  private dropped = 0;

  constructor(sources: LogSource[], private readonly maxQueued = 10_000, private readonly maxLineBytes = 8192) {
    this.tails = sources.map((src) => ({ src, fd: null, ino: -1, pos: 0, partial: '' }));
    for (const t of this.tails) this.open(t, true);
  }

  private open(t: Tail, atEnd: boolean): void {
    try {
      const fd = fs.openSync(t.src.path, 'r');
      const st = fs.fstatSync(fd);
      t.fd = fd;
      t.ino = st.ino;
      t.pos = atEnd ? st.size : 0;
      t.partial = '';
    } catch {
      t.fd = null; // not there yet: try again on the next poll, from its start
    }
  }

  private drain(t: Tail): void {
    if (t.fd === null) return;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = fs.readSync(t.fd, buf, 0, buf.length, t.pos);
      if (n <= 0) break;
      t.pos += n;
      const text = t.partial + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      t.partial = lines.pop()!.slice(0, this.maxLineBytes);
      for (const line of lines) this.push(t, line);
    }
  }

  private push(t: Tail, line: string): void {
    this.queue.push({ file: t.src.name ?? t.src.path, ts: Date.now(), line: line.slice(0, this.maxLineBytes) });
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.dropped++;
    }
  }

  /** Reads what was appended since the last poll, handling rotation. */
  poll(): void {
    for (const t of this.tails) {
      if (t.fd === null) {
        this.open(t, false);
        this.drain(t);
        continue;
      }
      let st: fs.Stats | null = null;
      try {
        st = fs.statSync(t.src.path);
      } catch {
        st = null; // rotated away, new file not created yet
      }
      if (st && st.ino === t.ino && st.size < t.pos) t.pos = 0; // truncated in place (copytruncate)
      this.drain(t);
      if (!st || st.ino !== t.ino) {
        if (t.partial) this.push(t, t.partial);
        fs.closeSync(t.fd);
        t.fd = null;
        if (st) {
          this.open(t, false);
          this.drain(t);
        }
      }
    }
  }

  /** Takes up to `max` queued lines, grouped per file. */
  take(max = 1000): LogBatch[] {
    const lines = this.queue.splice(0, max);
    const byFile = new Map<string, LogBatch>();
    for (const l of lines) {
      let b = byFile.get(l.file);
      if (!b) byFile.set(l.file, (b = { file: l.file, lines: [], dropped: 0 }));
      b.lines.push({ ts: l.ts, line: l.line });
    }
    const out = [...byFile.values()];
    if (out[0]) {
      out[0].dropped = this.dropped;
      this.dropped = 0;
    }
    return out;
  }

  /** Puts lines that could not be shipped back at the front. */
  unshift(batches: LogBatch[]): void {
    const back = batches.flatMap((b) => b.lines.map((l) => ({ file: b.file, ts: l.ts, line: l.line })));
    this.queue = [...back, ...this.queue].slice(-this.maxQueued);
    this.dropped += batches.reduce((n, b) => n + b.dropped, 0);
  }

  close(): void {
    for (const t of this.tails) if (t.fd !== null) fs.closeSync(t.fd);
  }
}
