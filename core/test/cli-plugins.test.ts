import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { startRegistry, helloAtVersion, type TestRegistry } from './helpers/registry.js';

const BIN = path.resolve(import.meta.dirname, '../dist/cli/main.js');

function mpanel(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('mpanel plugin … against a running panel', () => {
  let registry: TestRegistry;
  let tp: TestPanel;
  let env: Record<string, string>;

  beforeAll(async () => {
    registry = await startRegistry();
    await registry.publish(helloAtVersion('1.0.0'));
    await registry.publish(helloAtVersion('1.1.0'));
    tp = await startTestPanel({ config: { registryUrl: registry.url } });
    const owner = await tp.owner();
    const token = await owner.post('/api/v1/auth/tokens', { name: 'cli', permissions: ['plugin.read', 'plugin.manage'] });
    expect(token.status).toBe(201);
    env = { MPANEL_URL: tp.url, MPANEL_TOKEN: token.body.secret };
  });
  afterAll(async () => {
    await tp?.close();
    await registry?.close();
  });

  it('refuses to install without approval when there is no terminal', async () => {
    const r = await mpanel(['plugin', 'install', '@mpanel/plugin-hello@1.0.0'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--approve');
    expect(r.stderr).toContain('hello.read');
  });

  it('install → list → upgrade → disable → uninstall --purge', async () => {
    const install = await mpanel(['plugin', 'install', '@mpanel/plugin-hello@1.0.0', '--approve', 'none'], env);
    expect(install.code).toBe(0);
    expect(JSON.parse(install.stdout)).toMatchObject({ id: 'hello', version: '1.0.0', state: 'enabled' });
    const list = await mpanel(['plugin', 'list'], env);
    expect(list.stdout).toMatch(/hello\s+1\.0\.0\s+enabled/);
    const up = await mpanel(['plugin', 'upgrade', 'hello', '--approve', 'none'], env);
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout).version).toBe('1.1.0');
    expect((await mpanel(['plugin', 'disable', 'hello'], env)).code).toBe(0);
    const again = await mpanel(['plugin', 'disable', 'hello'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('disabled already');
    const un = await mpanel(['plugin', 'uninstall', 'hello', '--purge'], env);
    expect(un.code).toBe(0);
    expect(JSON.parse(un.stdout)).toEqual({ id: 'hello', purged: true });
  });

  it('fails clearly without a token or with a panel that is down', async () => {
    const noToken = await mpanel(['plugin', 'list'], { MPANEL_URL: tp.url, MPANEL_TOKEN: '' });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('--token');
    const down = await mpanel(['plugin', 'list', '--url', 'http://127.0.0.1:9'], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('does not answer');
  });
});
