import fs from 'node:fs';
import path from 'node:path';

/** Anything the buffer holds: it numbers records itself. */
export interface SeqRecord { seq: number }

export interface RecordBufferOptions {
  /** Unacknowledged records kept at most; beyond it the oldest segment is dropped (and counted). */
  maxRecords?: number;
  /** Records per segment file. */
  segmentSize?: number;
  /** Bytes per segment file at most (a segment always takes at least one record): bounds what the newest segment costs in memory. */
  segmentBytes?: number;
  /** fdatasync after each append (a power cut then loses nothing that was appended). */
  sync?: boolean;
}

interface Segment { first: number; last: number; count: number; bytes: number; file: string }
interface State { ackedSeq: number; floorSeq: number; dropped: number }

const SEGMENT = /^seg-(\d{16})\.jsonl$/;

/**
 * Durable, bounded FIFO of records on disk: append-only JSON-lines segment
 * files plus a small state file with the highest acknowledged sequence
 * number. Sequence numbers are never reused, so the receiver can drop replays
 * it has stored already; records are handed out strictly in sequence order.
 * Samples and shipped log lines both wait here (each in its own directory).
 */
export class RecordBuffer<T extends SeqRecord> {
  private readonly dir: string;
  private readonly maxRecords: number;
  private readonly segmentSize: number;
  private readonly segmentBytes: number;
  private readonly sync: boolean;
  private segments: Segment[] = [];
  private state: State = { ackedSeq: 0, floorSeq: 0, dropped: 0 };
  private nextSeq = 1;
  /** The newest segment's records, so the live path never re-reads the disk. */
  private tail: T[] = [];
  private cached: { file: string; records: T[] } | null = null;

  constructor(dir: string, options: RecordBufferOptions = {}) {
    this.dir = dir;
    this.maxRecords = options.maxRecords ?? 100_000;
    this.segmentSize = Math.max(1, Math.min(options.segmentSize ?? 360, this.maxRecords));
    this.segmentBytes = options.segmentBytes ?? Infinity;
    this.sync = options.sync ?? true;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.load();
  }

  private statePath() {
    return path.join(this.dir, 'state.json');
  }

  private load(): void {
    try {
      this.state = { ...this.state, ...JSON.parse(fs.readFileSync(this.statePath(), 'utf8')) };
    } catch {
      // first start, or a torn write of a state file that was being replaced: start from the segments
    }
    const files = fs.readdirSync(this.dir).filter((f) => SEGMENT.test(f)).sort();
    let maxSeq = Math.max(this.state.ackedSeq, this.state.floorSeq);
    for (const file of files) {
      const { records, bytes } = this.readSegment(file);
      if (!records.length) {
        fs.rmSync(path.join(this.dir, file), { force: true });
        continue;
      }
      const seg = { first: records[0]!.seq, last: records[records.length - 1]!.seq, count: records.length, bytes, file };
      maxSeq = Math.max(maxSeq, seg.last);
      this.segments.push(seg);
    }
    this.nextSeq = maxSeq + 1;
    const last = this.segments[this.segments.length - 1];
    this.tail = last ? this.readSegment(last.file).records : [];
    this.dropAcked();
  }

  /** Parses a segment; a line torn by a crash mid-append is ignored. */
  private readSegment(file: string): { records: T[]; bytes: number } {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir, file), 'utf8');
    } catch {
      return { records: [], bytes: 0 };
    }
    const records: T[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as T;
        if (typeof r.seq === 'number' && (!records.length || r.seq > records[records.length - 1]!.seq)) records.push(r);
      } catch {
        // torn line
      }
    }
    return { records, bytes: Buffer.byteLength(text) };
  }

  private full(seg: Segment): boolean {
    return seg.count >= this.segmentSize || seg.bytes >= this.segmentBytes;
  }

  /** Appends a record, giving it the next sequence number. */
  append(record: Omit<T, 'seq'>): T {
    return this.appendMany([record])[0]!;
  }

  /**
   * Appends records in order with consecutive sequence numbers: one write
   * (and one fdatasync) per segment touched. When it returns they are on disk.
   */
  appendMany(records: ReadonlyArray<Omit<T, 'seq'>>): T[] {
    const out: T[] = [];
    let i = 0;
    while (i < records.length) {
      let seg = this.segments[this.segments.length - 1];
      if (!seg || this.full(seg)) {
        seg = { first: this.nextSeq, last: this.nextSeq - 1, count: 0, bytes: 0, file: `seg-${String(this.nextSeq).padStart(16, '0')}.jsonl` };
        this.segments.push(seg);
        this.tail = [];
      }
      const added: T[] = [];
      let text = '';
      let count = seg.count;
      let bytes = seg.bytes;
      while (i < records.length && (count === 0 || (count < this.segmentSize && bytes < this.segmentBytes))) {
        // Numbers are taken even if the write below fails: a number is never handed out twice.
        const r = { seq: this.nextSeq++, ...records[i++] } as T;
        const line = `${JSON.stringify(r)}\n`;
        added.push(r);
        text += line;
        count++;
        bytes += Buffer.byteLength(line);
      }
      const fd = fs.openSync(path.join(this.dir, seg.file), 'a', 0o600);
      try {
        fs.writeSync(fd, text);
        if (this.sync) fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      // A new file's name must survive a power cut too, before anyone relies on what it holds.
      if (this.sync && seg.count === 0) syncDir(this.dir);
      seg.last = added[added.length - 1]!.seq;
      seg.count = count;
      seg.bytes = bytes;
      for (const r of added) {
        this.tail.push(r);
        out.push(r);
      }
    }
    this.enforceBound();
    return out;
  }

  /** Drops whole oldest segments while more than maxRecords wait; counts what was lost. */
  private enforceBound(): void {
    while (this.segments.length > 1 && this.pendingCount() > this.maxRecords) {
      const seg = this.segments.shift()!;
      const lost = seg.last - Math.max(seg.first - 1, this.state.ackedSeq, this.state.floorSeq);
      this.state.dropped += Math.max(0, lost);
      this.state.floorSeq = Math.max(this.state.floorSeq, seg.last);
      fs.rmSync(path.join(this.dir, seg.file), { force: true });
      if (this.cached?.file === seg.file) this.cached = null;
      this.saveState();
    }
  }

  private floor(): number {
    return Math.max(this.state.ackedSeq, this.state.floorSeq);
  }

  /** Records not yet acknowledged. */
  pendingCount(): number {
    const floor = this.floor();
    let n = 0;
    for (const seg of this.segments) if (seg.last > floor) n += seg.last - Math.max(seg.first - 1, floor);
    return n;
  }

  private recordsOf(i: number): T[] {
    const seg = this.segments[i]!;
    if (i === this.segments.length - 1) return this.tail;
    if (this.cached?.file !== seg.file) this.cached = { file: seg.file, records: this.readSegment(seg.file).records };
    return this.cached.records;
  }

  /** Up to `max` unacknowledged records, oldest first. */
  pending(max: number): T[] {
    const floor = this.floor();
    const out: T[] = [];
    for (let i = 0; i < this.segments.length && out.length < max; i++) {
      if (this.segments[i]!.last <= floor) continue;
      for (const r of this.recordsOf(i)) {
        if (r.seq <= floor) continue;
        out.push(r);
        if (out.length >= max) break;
      }
    }
    return out;
  }

  /**
   * Every record still on disk numbered above `seq`, acknowledged or not, in
   * order — for recovering what the owner appended just before a crash.
   */
  since(seq: number): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.segments.length; i++) {
      if (this.segments[i]!.last <= seq) continue;
      for (const r of this.recordsOf(i)) if (r.seq > seq) out.push(r);
    }
    return out;
  }

  /** The receiver stored everything up to `seq`: forget it. */
  ack(seq: number): void {
    if (seq <= this.state.ackedSeq) return;
    this.state.ackedSeq = Math.min(seq, this.nextSeq - 1);
    this.dropAcked();
    this.saveState();
  }

  private dropAcked(): void {
    const floor = this.floor();
    // Keep the newest segment open for appends even when fully acknowledged.
    while (this.segments.length > 1 && this.segments[0]!.last <= floor) {
      const seg = this.segments.shift()!;
      fs.rmSync(path.join(this.dir, seg.file), { force: true });
      if (this.cached?.file === seg.file) this.cached = null;
    }
  }

  /** The receiver already holds records up to `seq` (e.g. after this buffer was wiped): never reuse those numbers. */
  skipTo(seq: number): void {
    if (seq >= this.nextSeq && this.pendingCount() === 0) {
      this.nextSeq = seq + 1;
      this.state.ackedSeq = seq;
      this.saveState();
    }
  }

  private saveState(): void {
    const tmp = `${this.statePath()}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
    fs.renameSync(tmp, this.statePath());
  }

  stats() {
    return { pending: this.pendingCount(), dropped: this.state.dropped, ackedSeq: this.state.ackedSeq, nextSeq: this.nextSeq, segments: this.segments.length };
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
