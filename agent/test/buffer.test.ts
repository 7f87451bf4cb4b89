import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskBuffer } from '../src/buffer/disk-buffer.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-buffer-'));
const sample = (i: number) => ({ ts: 1_700_000_000_000 + i, l: 'k', v: [i] });

describe('DiskBuffer', () => {
  it('hands out samples in order, forgets acknowledged ones and survives a restart', () => {
    const dir = tmp();
    let b = new DiskBuffer(dir, { segmentSize: 4, sync: false });
    for (let i = 0; i < 10; i++) b.append(sample(i));
    expect(b.pending(100).map((s) => s.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    b.ack(5);
    expect(b.pending(3).map((s) => s.seq)).toEqual([6, 7, 8]);
    // A new process on the same directory: same pending samples, numbering continues.
    b = new DiskBuffer(dir, { segmentSize: 4, sync: false });
    expect(b.pending(100).map((s) => s.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(b.append(sample(10)).seq).toBe(11);
    b.ack(11);
    expect(b.pending(100)).toEqual([]);
    b = new DiskBuffer(dir, { segmentSize: 4, sync: false });
    expect(b.append(sample(11)).seq).toBe(12); // numbers are never reused, even when everything was acknowledged
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('seg-')).length).toBeLessThanOrEqual(2);
  });

  it('is bounded: drops the oldest segment when full and counts the loss', () => {
    const dir = tmp();
    const b = new DiskBuffer(dir, { maxSamples: 8, segmentSize: 4, sync: false });
    for (let i = 0; i < 20; i++) b.append(sample(i));
    const st = b.stats();
    expect(st.pending).toBeLessThanOrEqual(8);
    expect(st.dropped).toBe(20 - st.pending);
    const seqs = b.pending(100).map((s) => s.seq);
    expect(seqs[seqs.length - 1]).toBe(20);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new DiskBuffer(dir, { maxSamples: 8, segmentSize: 4, sync: false }).stats().dropped).toBe(st.dropped);
  });

  it('ignores a line torn by a crash mid-append', () => {
    const dir = tmp();
    const b = new DiskBuffer(dir, { segmentSize: 100, sync: false });
    for (let i = 0; i < 3; i++) b.append(sample(i));
    const seg = fs.readdirSync(dir).find((f) => f.startsWith('seg-'))!;
    fs.appendFileSync(path.join(dir, seg), '{"seq":4,"ts":1');
    const again = new DiskBuffer(dir, { segmentSize: 100, sync: false });
    expect(again.pending(10).map((s) => s.seq)).toEqual([1, 2, 3]);
    expect(again.append(sample(3)).seq).toBe(4);
  });

  it('skips past sequence numbers the panel already holds (wiped buffer)', () => {
    const b = new DiskBuffer(tmp(), { sync: false });
    b.skipTo(41);
    expect(b.append(sample(0)).seq).toBe(42);
  });
});
