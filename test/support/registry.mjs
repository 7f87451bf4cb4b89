// A real Verdaccio on a free loopback port with its own storage and a
// publishing user — shared by the tests (core/test/helpers/registry.ts) and
// the benchmarks (test/bench). Plain JS so benchmarks run without a TS step.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runServer, parseConfigFile } from 'verdaccio';

const run = promisify(execFile);

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** @returns {Promise<import('./registry.d.mts').TestRegistry>} */
export async function startRegistry() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-verdaccio-'));
  const storage = path.join(dir, 'storage');
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, [
    `storage: ${storage}`,
    'auth:',
    '  htpasswd:',
    `    file: ${path.join(dir, 'htpasswd')}`,
    '    max_users: 10',
    'uplinks: {}',
    'packages:',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    unpublish: $authenticated',
    'publish:',
    '  allow_offline: true',
    'log: { type: stdout, format: pretty, level: fatal }',
  ].join('\n'));
  const config = parseConfigFile(configPath);
  config.self_path = configPath;
  config.configPath = configPath;
  const app = await runServer(config);
  const port = await freePort();
  const server = await new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${port}`;
  const res = await fetch(`${url}/-/user/org.couchdb.user:tester`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tester', password: 'tester-password-1' }),
  });
  const { token } = await res.json();
  if (!token) throw new Error(`verdaccio did not hand out a token (${res.status})`);
  const npmrc = path.join(dir, '.npmrc');
  fs.writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${token}\n`, { mode: 0o600 });
  return {
    url,
    storage,
    publish: async (pkgDir) => {
      await run('npm', ['publish', pkgDir, '--registry', `${url}/`, '--userconfig', npmrc, '--ignore-scripts', '--access', 'public'], {
        cwd: pkgDir,
        env: { ...process.env, NPM_CONFIG_USERCONFIG: npmrc },
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const SDK_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'sdk');

/**
 * Writes a small plugin package (package.json + files) into a temp dir and
 * returns the dir. Like an npm-installed package, it can resolve
 * `@mpanel/sdk` (a node_modules link to this repo's SDK) — so it also works
 * as a local plugin directory; `npm publish` never packs node_modules.
 */
export function writePluginPackage(pkg, files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-plugin-pkg-'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  fs.mkdirSync(path.join(dir, 'node_modules', '@mpanel'), { recursive: true });
  fs.symlinkSync(SDK_DIR, path.join(dir, 'node_modules', '@mpanel', 'sdk'), 'dir');
  return dir;
}

/**
 * A minimal plugin `<id>` with one migration (a table), one permission and one
 * route `GET /api/v1/p/<id>/ping` — what the benchmarks and load tests install.
 */
export function generatedPlugin(id, version = '1.0.0') {
  return writePluginPackage(
    {
      name: `mpanel-plugin-${id}`, version, type: 'module', main: 'index.js', keywords: ['mpanel-plugin'],
      peerDependencies: { '@mpanel/sdk': '^0.1.0' },
      mpanel: { id, displayName: id, sdk: '^0.1.0', permissions: [{ name: `${id}.read`, description: 'read', defaultRoles: ['admin'] }] },
    },
    {
      'index.js': `import { definePlugin } from '@mpanel/sdk';
export default definePlugin({
  migrations: [{ name: '0001-items', up: (db) => db.execute('create table item (id serial primary key, name text not null)'), down: (db) => db.execute('drop table item') }],
  setup(ctx) {
    ctx.routes.add({ method: 'GET', path: '/ping', summary: 'ping', permission: '${id}.read', handler: () => ({ pong: '${id}' }) });
  },
});
`,
    },
  );
}
