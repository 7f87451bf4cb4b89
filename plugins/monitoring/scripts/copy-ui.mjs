// Copies the UI module and the two libraries it loads lazily (uPlot for charts, the
// socket.io browser client for live data) into dist/ui, so the shell never bundles them.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(here, 'dist/ui');
fs.rmSync(out, { recursive: true, force: true });
fs.cpSync(path.join(here, 'src/ui'), out, { recursive: true });
fs.mkdirSync(path.join(out, 'vendor'), { recursive: true });
const uplot = path.dirname(require.resolve('uplot/package.json'));
fs.copyFileSync(path.join(uplot, 'dist/uPlot.esm.js'), path.join(out, 'vendor/uPlot.esm.js'));
fs.copyFileSync(path.join(uplot, 'dist/uPlot.min.css'), path.join(out, 'vendor/uPlot.min.css'));
const sio = path.dirname(require.resolve('socket.io-client/package.json'));
fs.copyFileSync(path.join(sio, 'dist/socket.io.esm.min.js'), path.join(out, 'vendor/socket.io.esm.min.js'));
