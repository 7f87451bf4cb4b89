import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import type http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runServer, parseConfigFile } from 'verdaccio';

const run = promisify(execFile);

export interface TestRegistry {
  url: string;
  storage: string;
  /** Publishes a package directory with `npm publish` (npm's real machinery). */
  publish(dir: string): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A real Verdaccio on a free loopback port with its own storage; no uplinks. */
export async function startRegistry(): Promise<TestRegistry> {
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
  const server: http.Server = await new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${port}`;
  const res = await fetch(`${url}/-/user/org.couchdb.user:tester`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tester', password: 'tester-password-1' }),
  });
  const { token } = (await res.json()) as { token?: string };
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
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a small plugin package (package.json + files) into a temp dir and returns the dir. */
export function writePluginPackage(pkg: Record<string, unknown>, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-plugin-pkg-'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** A copy of examples/hello (built) at another version, optionally with extra migrations appended. */
export function helloAtVersion(version: string, extraMigrationsJs = ''): string {
  const src = path.resolve(import.meta.dirname, '../../../examples/hello');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-hello-'));
  const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'));
  pkg.version = version;
  delete pkg.devDependencies;
  delete pkg.scripts;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  fs.cpSync(path.join(src, 'dist'), path.join(dir, 'dist'), { recursive: true });
  if (extraMigrationsJs) {
    const index = path.join(dir, 'dist', 'migrations', 'index.js');
    fs.writeFileSync(index, `${fs.readFileSync(index, 'utf8')}\n${extraMigrationsJs}\n`);
  }
  return dir;
}
