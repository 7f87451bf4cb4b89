// @vitest-environment happy-dom
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory, createRouter, type Router } from 'vue-router';
import { defineComponent, h } from 'vue';
import { api } from '../src/api';
import { ApiClient, ApiError } from '../src/api/client';
import { PluginRuntime, SHELL_ROUTE } from '../src/runtime/plugins';
import { useContributions } from '../src/runtime/registry';
import { dispatch, eventMatches } from '../src/runtime/realtime';
import { useSession } from '../src/stores/session';

/** A plugin UI module on disk (what the server would serve), loaded through import(). */
function moduleFile(source: string): string {
  // Inside the project (git-ignored test/artifacts): the test runner only imports files under its root.
  const base = path.resolve(import.meta.dirname, '../../test/artifacts/ui-modules');
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, 'm-'));
  const file = path.join(dir, 'index.mjs');
  fs.writeFileSync(file, source);
  return file; // the test runner imports absolute paths (a browser imports the server URL)
}

const Empty = defineComponent({ setup: () => () => h('div') });

describe('PluginRuntime', () => {
  let router: Router;
  let runtime: PluginRuntime;
  let contributions: unknown[];

  beforeEach(async () => {
    setActivePinia(createPinia());
    useSession().me = { user: { id: 'u', tenantId: 't', email: 'a@b.c', name: 'A', emailVerified: true, disabled: false, createdAt: '' }, tenant: { id: 't', path: '/t/' }, permissions: ['*'], csrfToken: 'x', actorType: 'user', sessionId: 's' };
    router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: '/', name: SHELL_ROUTE, component: Empty, children: [{ path: '', component: Empty }, { path: ':pathMatch(.*)*', name: 'not-found', component: Empty }] }],
    });
    await router.push('/');
    runtime = new PluginRuntime(router);
    contributions = [];
    vi.spyOn(api, 'get').mockImplementation(async (p: string) => {
      if (p === '/api/v1/ui/contributions') return contributions;
      throw new Error(`unexpected ${p}`);
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const hello = (ui: string | null, version = '1.0.0') => ({
    id: 'hello', version, displayName: 'Hello', ui,
    menu: [{ id: 'hello', label: 'Hello', path: '/hello' }], panels: [{ id: 'greetings', title: 'Greetings', path: '/hello' }], widgets: [],
  });

  it('mounts routes, menu entries and widgets of a module and removes them all again', async () => {
    const ui = moduleFile(`
      export function install(shell) {
        globalThis.__installs = (globalThis.__installs ?? 0) + 1;
        const off = [
          shell.addRoute({ path: '/hello', component: { render: () => null }, title: 'Greetings' }),
          shell.addMenuItem({ id: 'hello', label: 'Hello!', path: '/hello' }),
          shell.addWidget({ id: 'w', title: 'W', component: { render: () => null } }),
          shell.onEvent('hello.*', (e) => { globalThis.__seen = e.type; }),
        ];
        return () => { globalThis.__disposed = true; off.forEach((f) => f()); };
      }`);
    contributions = [hello(ui)];
    await runtime.start();
    const reg = useContributions();
    expect(reg.plugins.hello!.state).toBe('ready');
    expect(reg.menu.map((m) => [m.key, m.label])).toEqual([['hello:hello', 'Hello!']]);
    expect(reg.widgets.map((w) => w.key)).toEqual(['hello:w']);
    expect(router.resolve('/hello').name).toBe('plugin:hello:/hello');
    dispatch({ type: 'hello.greeting.created', tenantId: null, payload: {} });
    expect((globalThis as any).__seen).toBe('hello.greeting.created');

    await router.push('/hello');
    contributions = [];
    await runtime.sync();
    expect((globalThis as any).__disposed).toBe(true);
    expect(reg.menu).toEqual([]);
    expect(reg.widgets).toEqual([]);
    expect(router.hasRoute('plugin:hello:/hello')).toBe(false);
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('not-found'));
  });

  it('a module that fails to load marks the plugin failed and its page explains why', async () => {
    contributions = [hello(moduleFile('export function install() { throw new Error("broken module"); }'))];
    await runtime.start();
    const reg = useContributions();
    expect(reg.plugins.hello!.state).toBe('failed');
    expect((reg.plugins.hello!.error as Error).message).toBe('broken module');
    // The declared menu entry still leads to a page (with the error), not to "not found".
    expect(reg.menu.map((m) => m.key)).toEqual(['hello:hello']);
    expect(router.resolve('/hello').name).toBe('plugin:hello:/hello');
  });

  it('an upgrade (new version URL) unloads the old module and loads the new one', async () => {
    contributions = [hello(moduleFile('export function install(s) { return s.addMenuItem({ id: "v", label: "v1", path: "/v" }); }'))];
    await runtime.start();
    contributions = [hello(moduleFile('export function install(s) { return s.addMenuItem({ id: "v", label: "v2", path: "/v" }); }'), '1.1.0')];
    await runtime.sync();
    expect(useContributions().menu.filter((m) => m.id === 'v').map((m) => m.label)).toEqual(['v2']);
  });
});

describe('event patterns', () => {
  it('match like the server’s', () => {
    expect(eventMatches('*', 'a.b')).toBe(true);
    expect(eventMatches('plugin.*', 'plugin.enabled')).toBe(true);
    expect(eventMatches('plugin.*', 'plugins.x')).toBe(false);
    expect(eventMatches('user.created', 'user.created')).toBe(true);
  });
});

describe('ApiClient', () => {
  it('sends the CSRF header on state changes and turns problem+json into ApiError', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const onUnauthenticated = vi.fn();
    const fetchStub = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      if (url === '/gone') return new Response(JSON.stringify({ code: 'unauthenticated', detail: 'Log in', status: 401 }), { status: 401, headers: { 'content-type': 'application/problem+json' } });
      if (init.method === 'POST') return new Response(JSON.stringify({ code: 'validation-failed', detail: 'The request body is not valid', errors: [{ pointer: '/body/name', message: 'is required' }] }), { status: 400, headers: { 'content-type': 'application/problem+json' } });
      return new Response(JSON.stringify({ ok: true }), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof fetch;
    const client = new ApiClient({ fetch: fetchStub, onUnauthenticated });
    client.csrfToken = 'tok';
    expect(await client.get('/x')).toEqual({ ok: true });
    expect((calls[0]!.init.headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
    const err = await client.post('/x', { a: 1 }).catch((e) => e);
    expect((calls[1]!.init.headers as Record<string, string>)['x-csrf-token']).toBe('tok');
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'validation-failed', detail: 'The request body is not valid' });
    await client.get('/gone').catch(() => undefined);
    expect(onUnauthenticated).toHaveBeenCalledTimes(1);
  });
});
