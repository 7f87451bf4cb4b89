import fs from 'node:fs';
import path from 'node:path';

/** One collected sample as it waits for the panel's acknowledgement. */
export interface BufferedSample {
  seq: number;
  /** Collection time, ms since the epoch. */
  ts: number;
  /** Layout key: which metric names `v` holds, in order. */
  l: string;
  v: number[];
}

export interface BufferOptions {
  /** Unacknowledged samples kept at most; beyond it the oldest segment is dropped (and counted). */
  maxSamples?: number;
  /** Samples per segment file. */
  segmentSize?: number;
  /** fdatasync after each append (a power cut then loses nothing that was collected). */
  sync?: boolean;
}

interface Segment { first: number; last: number; count: number; file: string }
interface State { ackedSeq: number; floorSeq: number; dropped: number }

const SEGMENT = /^seg-(\d{16})\.jsonl$/;

/**
 * Durable, bounded FIFO of samples on disk: append-only JSON-lines segment
 * files plus a small state file with the highest acknowledged sequence
 * number. Sequence numbers are never reused, so the panel can drop replays it
 * has stored already; samples are handed out strictly in sequence order.
 */
export class DiskBuffer {
  private readonly dir: string;
  private readonly maxSamples: number;
  private readonly segmentSize: number;
  private readonly sync: boolean;
  private segments: Segment[] = [];
  private state: State = { ackedSeq: 0, floorSeq: 0, dropped: 0 };
  private nextSeq = 1;
  /** The newest segment's samples, so the live path never re-reads the disk. */
  private tail: BufferedSample[] = [];
  private cached: { file: string; samples: BufferedSample[] } | null = null;

  constructor(dir: string, options: BufferOptions = {}) {
    this.dir = dir;
    this.maxSamples = options.maxSamples ?? 100_000;
    this.segmentSize = Math.max(1, Math.min(options.segmentSize ?? 360, this.maxSamples));
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
      const samples = this.readSegment(file);
      if (!samples.length) {
        fs.rmSync(path.join(this.dir, file), { force: true });
        continue;
      }
      const seg = { first: samples[0]!.seq, last: samples[samples.length - 1]!.seq, count: samples.length, file };
      maxSeq = Math.max(maxSeq, seg.last);
      this.segments.push(seg);
    }
    this.nextSeq = maxSeq + 1;
    const last = this.segments[this.segments.length - 1];
    this.tail = last ? this.readSegment(last.file) : [];
    this.dropAcked();
  }

  /** Parses a segment; a line torn by a crash mid-append is ignored. */
  private readSegment(file: string): BufferedSample[] {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir, file), 'utf8');
    } catch {
      return [];
    }
    const out: BufferedSample[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const s = JSON.parse(line) as BufferedSample;
        if (typeof s.seq === 'number' && (!out.length || s.seq > out[out.length - 1]!.seq)) out.push(s);
      } catch {
        // torn line
      }
    }
    return out;
  }

  /** Appends a sample, giving it the next sequence number. */
  append(sample: Omit<BufferedSample, 'seq'>): BufferedSample {
    const s: BufferedSample = { seq: this.nextSeq++, ts: sample.ts, l: sample.l, v: sample.v };
    let seg = this.segments[this.segments.length - 1];
    if (!seg || seg.count >= this.segmentSize) {
      seg = { first: s.seq, last: s.seq, count: 0, file: `seg-${String(s.seq).padStart(16, '0')}.jsonl` };
      this.segments.push(seg);
      this.tail = [];
    }
    const fd = fs.openSync(path.join(this.dir, seg.file), 'a', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify(s)}\n`);
      if (this.sync) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    seg.last = s.seq;
    seg.count++;
    this.tail.push(s);
    this.enforceBound();
    return s;
  }

  /** Drops whole oldest segments while more than maxSamples wait; counts what was lost. */
  private enforceBound(): void {
    while (this.segments.length > 1 && this.pendingCount() > this.maxSamples) {
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

  /** Samples not yet acknowledged. */
  pendingCount(): number {
    const floor = this.floor();
    let n = 0;
    for (const seg of this.segments) if (seg.last > floor) n += seg.last - Math.max(seg.first - 1, floor);
    return n;
  }

  /** Up to `max` unacknowledged samples, oldest first. */
  pending(max: number): BufferedSample[] {
    const floor = this.floor();
    const out: BufferedSample[] = [];
    for (let i = 0; i < this.segments.length && out.length < max; i++) {
      const seg = this.segments[i]!;
      if (seg.last <= floor) continue;
      let samples: BufferedSample[];
      if (i === this.segments.length - 1) samples = this.tail;
      else {
        if (this.cached?.file !== seg.file) this.cached = { file: seg.file, samples: this.readSegment(seg.file) };
        samples = this.cached.samples;
      }
      for (const s of samples) {
        if (s.seq <= floor) continue;
        out.push(s);
        if (out.length >= max) break;
      }
    }
    return out;
  }

  /** The panel stored everything up to `seq`: forget it. */
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

  /** The panel already holds samples up to `seq` (e.g. after this buffer was wiped): never reuse those numbers. */
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
