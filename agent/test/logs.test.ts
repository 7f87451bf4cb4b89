import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogQueue, type LogQueueOptions } from '../src/logs/log-queue.js';
import { LogTailer, type TailedLine } from '../src/logs/tailer.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-logs-'));

/** A log file in its own directory, and the queue's data directory. */
function setup(initial = 'history that must not be shipped\n') {
  const root = tmp();
  const logDir = path.join(root, 'log');
  fs.mkdirSync(logDir);
  const file = path.join(logDir, 'app.log');
  if (initial !== null) fs.writeFileSync(file, initial);
  const data = path.join(root, 'data');
  const open = (o: LogQueueOptions = {}) => new LogQueue([{ path: file, name: 'app' }], data, { sync: false, ...o });
  return { file, data, open };
}

/** Everything waiting in the queue, by text. */
const waiting = (q: LogQueue) => q.buffer.pending(1_000_000).map((r) => r.line);
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);
const text = (ls: string[]) => ls.map((l) => `${l}\n`).join('');

describe('LogQueue and LogTailer', () => {
  it('starts at the end on the first start, reads appended lines and joins partial lines', () => {
    const { file, open } = setup();
    const q = open();
    expect(q.poll()).toBe(0);
    fs.appendFileSync(file, 'one\ntwo\nthr');
    q.poll();
    expect(waiting(q)).toEqual(['one', 'two']);
    fs.appendFileSync(file, 'ee\n');
    q.poll();
    expect(waiting(q)).toEqual(['one', 'two', 'three']);
    const recs = q.buffer.pending(10);
    expect(recs.map((r) => r.seq)).toEqual([recs[0]!.seq, recs[0]!.seq + 1, recs[0]!.seq + 2]);
    // A fresh queue numbers above anything an earlier (wiped) queue could have used.
    expect(recs[0]!.seq).toBeGreaterThan(Date.now() * 1000 - 60_000_000);
    q.close();
  });

  it('hands out batches per file in seq order and forgets what was acknowledged', () => {
    const { file, open } = setup();
    const q = open();
    fs.appendFileSync(file, text(lines(1, 1200)));
    q.poll();
    const first = q.next()!;
    expect(first.batches).toHaveLength(1);
    expect(first.batches[0]!.file).toBe('app');
    expect(first.batches[0]!.lines.map((l) => l.line)).toEqual(lines(1, 500));
    expect(first.batches[0]!.dropped).toBe(0);
    expect(first.upTo).toBe(first.batches[0]!.lines[499]!.seq);
    // Not acknowledged: the same lines again.
    expect(q.next()!.upTo).toBe(first.upTo);
    q.ack(first.upTo);
    expect(q.next()!.batches[0]!.lines[0]!.line).toBe('line 501');
    expect(q.stats().pending).toBe(700);
    q.close();
  });

  it('follows a rename rotation: finishes the old file, then reads the new one from its start', () => {
    const { file, open } = setup();
    const q = open();
    fs.appendFileSync(file, 'a1\n');
    q.poll();
    fs.appendFileSync(file, 'a2\na3 no newline');
    fs.renameSync(file, `${file}.1`);
    fs.appendFileSync(`${file}.1`, ' yet\n'); // the writer still had the old file open
    fs.writeFileSync(file, 'b1\nb2\n');
    q.poll();
    expect(waiting(q)).toEqual(['a1', 'a2', 'a3 no newline yet', 'b1', 'b2']);
    fs.appendFileSync(file, 'b3\n');
    q.poll();
    expect(waiting(q).slice(-1)).toEqual(['b3']);
    q.close();
  });

  it('follows a copytruncate rotation: starts over at 0', () => {
    const { file, open } = setup();
    const q = open();
    fs.appendFileSync(file, 'before one\nbefore two\n');
    q.poll();
    fs.copyFileSync(file, `${file}.1`);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, 'after\n');
    q.poll();
    expect(waiting(q)).toEqual(['before one', 'before two', 'after']);
    q.close();
  });

  it('remembers where the first start began even when stopped before its first poll', () => {
    const { file, open } = setup();
    let q = open();
    q.close();
    fs.appendFileSync(file, 'while it was down\n');
    q = open();
    q.poll();
    expect(waiting(q)).toEqual(['while it was down']);
    q.close();
  });

  it('reads a file that did not exist at the first start from its beginning once it appears, even across a restart', () => {
    const { file, open } = setup(null as unknown as string);
    let q = open();
    q.poll();
    q.close();
    fs.writeFileSync(file, 'first\nsecond\n');
    q = open();
    q.poll();
    expect(waiting(q)).toEqual(['first', 'second']);
    q.close();
  });

  it('resumes after a restart from the saved position: nothing lost, nothing repeated, numbers continue', () => {
    const { file, open } = setup();
    let q = open();
    fs.appendFileSync(file, text(lines(1, 10)));
    q.poll();
    const acked = q.buffer.pending(4);
    q.ack(acked[3]!.seq);
    const lastSeq = q.stats().nextSeq - 1;
    q.close();
    // While the agent is down: more lines, and one unfinished.
    fs.appendFileSync(file, `${text(lines(11, 20))}line 21 part`);
    q = open();
    q.poll();
    fs.appendFileSync(file, ' two\n');
    q.poll();
    const recs = q.buffer.pending(100);
    expect(recs.map((r) => r.line)).toEqual([...lines(5, 20), 'line 21 part two']);
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: 17 }, (_, i) => acked[3]!.seq + 1 + i));
    expect(recs.find((r) => r.line === 'line 11')!.seq).toBe(lastSeq + 1);
    q.close();
  });

  it('resumes after a restart across a rename rotation and a truncation that happened while it was down', () => {
    const { file, open } = setup();
    let q = open();
    fs.appendFileSync(file, 'r1\n');
    q.poll();
    q.close();
    fs.appendFileSync(file, 'r2\nr3\n');
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, 'n1\n');
    q = open();
    q.poll();
    expect(waiting(q)).toEqual(['r1', 'r2', 'r3', 'n1']);
    q.close();

    fs.writeFileSync(file, 'x\n'); // truncated in place and rewritten, shorter than where we were
    q = open();
    q.poll();
    expect(waiting(q)).toEqual(['r1', 'r2', 'r3', 'n1', 'x']);
    q.close();
  });

  it('neither loses nor repeats lines when it crashed between appending lines and saving positions', () => {
    const { file, data, open } = setup();
    let q = open();
    fs.appendFileSync(file, text(lines(1, 3)));
    q.poll();
    const positions = path.join(data, 'positions.json');
    const before = fs.readFileSync(positions);
    fs.appendFileSync(file, text(lines(4, 6)));
    q.poll();
    q.close();
    fs.writeFileSync(positions, before); // as if the process died right after the append
    fs.appendFileSync(file, text(lines(7, 8)));
    q = open();
    q.poll();
    expect(waiting(q)).toEqual(lines(1, 8));
    // And a torn last queue line (power cut mid-append): that line is read from the file again.
    q.close();
    const seg = fs.readdirSync(data).filter((f) => f.startsWith('seg-')).sort().pop()!;
    const segText = fs.readFileSync(path.join(data, seg), 'utf8');
    fs.writeFileSync(path.join(data, seg), segText.slice(0, segText.length - 20));
    fs.writeFileSync(positions, before);
    q = open();
    q.poll();
    expect(waiting(q)).toEqual(lines(1, 8));
    q.close();
  });

  it('is bounded: a full queue drops the oldest lines and counts them, also across a restart', () => {
    const { file, open } = setup();
    let q = open({ maxLines: 20 });
    fs.appendFileSync(file, text(lines(1, 50)));
    q.poll();
    const st = q.stats();
    expect(st.pending).toBeLessThanOrEqual(20);
    expect(st.pending).toBeGreaterThanOrEqual(18);
    expect(st.dropped).toBe(50 - st.pending);
    expect(waiting(q)).toEqual(lines(50 - st.pending + 1, 50));
    expect(q.next()!.batches[0]!.dropped).toBe(st.dropped);
    q.close();
    q = open({ maxLines: 20 });
    expect(q.stats().dropped).toBe(st.dropped);
    q.close();
  });

  it('cuts a line longer than the maximum, at a character boundary, also when it arrives in pieces', () => {
    const { file, open } = setup();
    const q = open({ maxLineBytes: 15 });
    fs.appendFileSync(file, `${'x'.repeat(40)}\n${'é'.repeat(20)}\nshort\n`);
    fs.appendFileSync(file, 'y'.repeat(10));
    q.poll();
    fs.appendFileSync(file, `${'y'.repeat(30)}\nend\n`);
    q.poll();
    expect(waiting(q)).toEqual(['x'.repeat(15), 'é'.repeat(7), 'short', 'y'.repeat(15), 'end']);
  });

  it('tails several files; LogTailer alone reports lines with their positions', () => {
    const dir = tmp();
    const a = path.join(dir, 'a.log');
    const b = path.join(dir, 'b.log');
    fs.writeFileSync(a, '');
    fs.writeFileSync(b, '');
    const t = new LogTailer([{ path: a, name: 'A' }, { path: b }]);
    fs.appendFileSync(a, 'a1\n');
    fs.appendFileSync(b, 'b1\nb2\n');
    const got: TailedLine[] = [];
    t.poll((l) => got.push(l));
    expect(got.map((l) => [l.file, l.line, l.off])).toEqual([['A', 'a1', 3], [b, 'b1', 3], [b, 'b2', 6]]);
    expect(t.positions()[b]).toEqual({ id: got[1]!.id, off: 6 });
    t.close();
  });
});
