import { RecordBuffer } from './record-buffer.js';

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

/**
 * The durable sample buffer: a RecordBuffer of snapshots (see there for the
 * on-disk format), in `<dataDir>/<agentId>/`.
 */
export class DiskBuffer extends RecordBuffer<BufferedSample> {
  constructor(dir: string, options: BufferOptions = {}) {
    super(dir, { maxRecords: options.maxSamples ?? 100_000, segmentSize: options.segmentSize, sync: options.sync });
  }

  /** Appends a sample, giving it the next sequence number. */
  override append(sample: Omit<BufferedSample, 'seq'>): BufferedSample {
    // Only the sample's own fields go to disk, whatever else the object carries.
    return super.append({ ts: sample.ts, l: sample.l, v: sample.v });
  }
}
