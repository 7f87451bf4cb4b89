// The UI is a plain ES module that tsc does not touch; the build copies it
// next to the compiled server code, where the manifest's "ui" points.
import fs from 'node:fs';

const from = new URL('../src/ui/', import.meta.url);
const to = new URL('../dist/ui/', import.meta.url);
fs.rmSync(to, { recursive: true, force: true });
fs.cpSync(from, to, { recursive: true });
