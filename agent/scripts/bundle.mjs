// Bundles the CLI into one file (dist/cli.cjs, the `mpanel-agent` bin): fewer
// files to read at startup, and the transport without what the agent never
// uses — `ws` is replaced by src/transport/mini-ws.ts (no http/https/tls/zlib
// at startup) and the long-polling transport's `xmlhttprequest-ssl` by a stub.
// `tsc` still emits the library build (dist/index.js and the .d.ts files).
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const replace = {
  ws: path.join(root, 'src/transport/mini-ws.ts'),
  'xmlhttprequest-ssl': path.join(root, 'src/transport/no-xhr.ts'),
  debug: path.join(root, 'src/transport/no-debug.ts'),
  // The CommonJS build (the ESM one for node is the debug build).
  'socket.io-client': require.resolve('socket.io-client'),
};
// CommonJS, not ESM: Node's ESM loader alone costs ~1.3 MB of resident memory
// (its own internal modules, measured here: 44.9 vs 43.6 MB for the same code).
const out = path.join(root, 'dist/cli.cjs');
const SHEBANG_FLAGS = '--max-semi-space-size=1 --max-old-space-size=24 --lite-mode --no-expose-wasm --expose-gc';
const result = await build({
  entryPoints: [path.join(root, 'src/cli.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The sources are ESM and resolve lazily loaded modules relative to import.meta.url; a path does as well.
  define: { 'import.meta.url': '__filename' },
  sourcemap: 'linked',
  legalComments: 'none',
  // Less source for V8 to keep and parse (the source map keeps stack traces readable with --enable-source-maps).
  minify: true,
  keepNames: false,
  metafile: true,
  logLevel: 'warning',
  plugins: [{
    name: 'agent-replacements',
    setup(b) {
      b.onResolve({ filter: /^(ws|xmlhttprequest-ssl|debug|socket\.io-client)$/ }, (args) => ({ path: replace[args.path] }));
      b.onResolve({ filter: /\/sio\.js$/ }, (args) => (args.importer.endsWith('panel-link.ts') ? { path: path.join(root, 'src/transport/sio.bundle.ts') } : undefined));
    },
  }],
});
// Nothing of the replaced packages (nor the debug build of socket.io-client) may end up in the bundle.
const inputs = Object.keys(result.metafile.inputs);
const unwanted = inputs.filter((i) => /node_modules\/(ws|xmlhttprequest-ssl|debug)\/|esm-debug/.test(i));
if (!inputs.some((i) => i.includes('mini-ws.ts')) || !inputs.some((i) => i.includes('socket.io-client/build/cjs'))) throw new Error('bundle: socket.io-client or mini-ws missing');
if (unwanted.length) throw new Error(`bundle: unexpected inputs ${unwanted.join(', ')}`);
// The node flags of the shipped unit also for `mpanel-agent` started by hand (`env -S`: Linux coreutils ≥ 8.30).
const code = fs.readFileSync(out, 'utf8').replace(/^(#![^\n]*\n)+/, '');
fs.writeFileSync(out, `#!/usr/bin/env -S node ${SHEBANG_FLAGS}\n${code}`);
fs.chmodSync(out, 0o755);
// tsc's unbundled dist/cli.js would be a second, heavier way to start the agent: the bin is the bundle.
for (const f of ['cli.js', 'cli.js.map', 'cli.d.ts', 'cli.d.ts.map']) fs.rmSync(path.join(root, 'dist', f), { force: true });
console.log(`bundled ${inputs.length} modules into ${path.relative(root, out)} (${Math.round(fs.statSync(out).size / 1024)} KiB)`);
