import path from 'node:path';
import { RecordBuffer } from '../buffer/record-buffer.js';
import { LogTailer, type LogSource, type TailedLine } from './tailer.js';
import { loadPositions, savePositions, type Position } from './positions.js';

/**
 * A log line as it waits on disk. Besides what is shipped it carries where
 * to resume its file after it (`p` source path, `i` file identity, `o`
 * offset): appending the line is what commits the position, so a crash
 * between the append and the positions file's update loses and repeats nothing.
 */
export interface LogRecord { seq: number; ts: number; f: string; line: string; p: string; i: string; o: number }

/** The `logs` event's payload (one file per batch, lines in seq order). */
export interface LogBatch { file: string; lines: Array<{ seq: number; ts: number; line: string }>; dropped: number }

export interface LogQueueOptions {
  /** Lines waiting for the panel at most; beyond it the oldest are dropped (and counted). */
  maxLines?: number;
  /** Longer lines are cut to this many bytes. */
  maxLineBytes?: number;
  /** fdatasync the queue and the positions file on every write. */
  sync?: boolean;
}

/** Lines appended per write at most: bounds what one poll of a large backlog holds in memory. */
const FLUSH_LINES = 1000;
/** A batch's lines at most, and its size (socket.io refuses messages over 1 MB by default). */
const BATCH_LINES = 500;
const BATCH_BYTES = 512 * 1024;

/**
 * Log shipping's durable half: the tailer's lines go to a bounded on-disk
 * RecordBuffer in `<dir>` (segments + state.json, like samples) and the
 * files' positions to `<dir>/positions.json`, always after the lines up to
 * them are appended. Batches are handed out in seq order; ack() forgets them.
 */
export class LogQueue {
  readonly buffer: RecordBuffer<LogRecord>;
  private readonly tailer: LogTailer;
  private readonly positionsFile: string;
  private readonly sync: boolean;
  private unwritten: Array<Omit<LogRecord, 'seq'>> = [];
  private savedFiles = '';

  constructor(sources: LogSource[], dir: string, o: LogQueueOptions = {}) {
    this.sync = o.sync ?? true;
    const maxLines = Math.max(1, o.maxLines ?? 100_000);
    // Whole segments are dropped when full: a tenth of the bound each, so a full queue still keeps ≥ 90 % of it.
    this.buffer = new RecordBuffer<LogRecord>(dir, { maxRecords: maxLines, segmentSize: Math.max(1, Math.min(1000, Math.floor(maxLines / 10))), segmentBytes: 256 * 1024, sync: this.sync });
    // A new queue (first start, or a wiped data directory) numbers from the current time in µs:
    // above whatever an earlier queue of this agent handed out, so the panel never takes a new line for a resend.
    if (this.buffer.stats().nextSeq === 1) this.buffer.skipTo(Date.now() * 1000);
    this.positionsFile = path.join(dir, 'positions.json');
    const saved = loadPositions(this.positionsFile);
    const positions: Record<string, Position> = { ...saved?.files };
    // Lines appended after the positions file was last written (a crash in between): their own positions are newer.
    for (const r of this.buffer.since(saved?.seq ?? 0)) positions[r.p] = { id: r.i, off: r.o };
    this.tailer = new LogTailer(sources, positions, { maxLineBytes: o.maxLineBytes });
    this.savePositions(); // so that a restart resumes where this first start began
  }

  /** Reads the files and appends new lines to the queue; returns how many. */
  poll(): number {
    let n = 0;
    this.tailer.poll((l) => {
      n++;
      this.unwritten.push(toRecord(l));
      if (this.unwritten.length >= FLUSH_LINES) this.flush();
    });
    this.flush();
    return n;
  }

  /** Appends what was read, then (and only then) records the positions reached. */
  private flush(): void {
    if (this.unwritten.length) {
      const lines = this.unwritten;
      this.unwritten = [];
      this.buffer.appendMany(lines);
    }
    this.savePositions();
  }

  private savePositions(): void {
    const files = this.tailer.positions();
    const json = JSON.stringify(files);
    if (json === this.savedFiles) return;
    savePositions(this.positionsFile, { seq: this.buffer.stats().nextSeq - 1, files }, this.sync);
    this.savedFiles = json;
  }

  /** The oldest unacknowledged lines as batches (one per file), and the seq to ack once all are stored. */
  next(): { batches: LogBatch[]; upTo: number } | null {
    const records = this.buffer.pending(BATCH_LINES);
    if (!records.length) return null;
    const dropped = this.buffer.stats().dropped;
    const byFile = new Map<string, LogBatch>();
    let bytes = 0;
    let upTo = 0;
    for (const r of records) {
      // What the line costs on the wire, escaped; the first always goes (lines are cut well below the limit).
      bytes += Buffer.byteLength(JSON.stringify(r.line)) + 48;
      if (upTo && bytes > BATCH_BYTES) break;
      let b = byFile.get(r.f);
      if (!b) byFile.set(r.f, (b = { file: r.f, lines: [], dropped }));
      b.lines.push({ seq: r.seq, ts: r.ts, line: r.line });
      upTo = r.seq;
    }
    return { batches: [...byFile.values()], upTo };
  }

  /** The panel stored everything up to `seq`. */
  ack(seq: number): void {
    this.buffer.ack(seq);
  }

  stats() {
    return this.buffer.stats();
  }

  close(): void {
    this.tailer.close();
  }
}

function toRecord(l: TailedLine): Omit<LogRecord, 'seq'> {
  return { ts: l.ts, f: l.file, line: l.line, p: l.src, i: l.id, o: l.off };
}
