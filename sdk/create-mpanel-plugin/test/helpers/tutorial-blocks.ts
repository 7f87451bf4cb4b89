/**
 * Reads the code blocks of a markdown document that are marked as files:
 *
 *   <!-- file: src/routes/notes.ts -->      the block is the whole file
 *   <!-- file: package.json#mpanel -->      the block (JSON) replaces that
 *                                           top-level key of a JSON file
 *
 * The marker is an HTML comment, invisible when the markdown is rendered;
 * blank lines may separate it from the fence.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface FileBlock {
  file: string;
  /** Top-level JSON key to replace, for `file#key` markers. */
  key?: string;
  lang: string;
  code: string;
  /** 1-based line of the marker, for error messages. */
  line: number;
}

const MARKER = /^<!--\s*file:\s*([^\s#]+)(?:#(\w+))?\s*-->\s*$/;
const FENCE = /^(`{3,})(\w*)\s*$/;

export function fileBlocks(markdown: string): FileBlock[] {
  const lines = markdown.split('\n');
  const blocks: FileBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]!);
    if (!marker) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    const open = FENCE.exec(lines[j] ?? '');
    if (!open) throw new Error(`line ${i + 1}: the file marker for ${marker[1]} is not followed by a fenced code block`);
    const close = lines.findIndex((l, k) => k > j && l.trim() === open[1]);
    if (close < 0) throw new Error(`line ${j + 1}: the code block for ${marker[1]} is not closed`);
    blocks.push({ file: marker[1]!, key: marker[2], lang: open[2]!, code: `${lines.slice(j + 1, close).join('\n')}\n`, line: i + 1 });
    i = close;
  }
  return blocks;
}

/** Writes the blocks into a plugin directory, refusing paths that leave it. */
export function applyBlocks(dir: string, blocks: FileBlock[]): void {
  for (const b of blocks) {
    const target = path.resolve(dir, b.file);
    if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`line ${b.line}: ${b.file} is outside the plugin`);
    if (b.key) {
      const json = JSON.parse(fs.readFileSync(target, 'utf8'));
      json[b.key] = JSON.parse(b.code);
      fs.writeFileSync(target, `${JSON.stringify(json, null, 2)}\n`);
    } else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, b.code);
    }
  }
}
