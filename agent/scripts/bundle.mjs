// Bundles the CLI into one file (dist/cli.js, the `mpanel-agent` bin): fewer
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
const out = path.join(root, 'dist/cli.js');
const SHEBANG_FLAGS = '--max-semi-space-size=1 --max-old-space-size=24';
const result = await build({
  entryPoints: [path.join(root, 'src/cli.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: 'import { createRequire as __agentCreateRequire } from "node:module";\nconst require = __agentCreateRequire(import.meta.url);' },
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
console.log(`bundled ${inputs.length} modules into ${path.relative(root, out)} (${Math.round(fs.statSync(out).size / 1024)} KiB)`);
