import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './helpers/until.js';
import { startPanelPair, startTestPanel, type PanelPair, type TestPanel } from './helpers/panel.js';
import { sql } from './helpers/db.js';
import { writePluginPackage, startRegistry, helloAtVersion, type TestRegistry } from './helpers/registry.js';
import type { TestClient } from './helpers/client.js';
import { sliceByBytes } from '../src/cluster/cluster-bus.js';

/**
 * `ctx.cluster`: a plugin's instances in two panel processes on one
 * PostgreSQL talk to each other. State lives in each setup's closure — both
 * panels run in this test process and share the plugin's module.
 */
const plugin = (id: string) =>
  writePluginPackage(
    {
      name: `mpanel-plugin-${id}`, version: '1.0.0', type: 'module', main: 'index.js',
      mpanel: { id, displayName: id, sdk: '^0.1.1', permissions: [{ name: `${id}.use`, description: 'use it' }] },
    },
    {
      'index.js': `import { definePlugin } from '@mpanel/sdk';
export default definePlugin({
  setup(ctx) {
    const got = [];
    ctx.cluster.on('note', (payload, from) => { got.push({ payload, from }); });
    ctx.routes.add({ method: 'POST', path: '/send', summary: 'send', permission: '${id}.use', audit: '${id}.send',
      schema: { body: { type: 'object', properties: { topic: { type: 'string' }, payload: {} }, required: ['payload'] } },
      handler: (req) => { ctx.cluster.send(req.body.topic ?? 'note', req.body.payload); return { nodeId: ctx.cluster.nodeId }; } });
    ctx.routes.add({ method: 'GET', path: '/got', summary: 'received', permission: '${id}.use',
      handler: () => ({ got, nodeId: ctx.cluster.nodeId, shared: ctx.cluster.shared }) });
    ctx.routes.add({ method: 'GET', path: '/refusals', summary: 'what send refuses', permission: '${id}.use',
      handler: () => {
        const out = {};
        const attempt = (name, fn) => { try { fn(); out[name] = 'sent'; } catch (e) { out[name] = e.constructor.name + ': ' + e.message; } };
        attempt('topic', () => ctx.cluster.send('Bad Topic!', 1));
        attempt('undefined', () => ctx.cluster.send('note', undefined));
        attempt('bigint', () => ctx.cluster.send('note', { n: 1n }));
        attempt('oversize', () => ctx.cluster.send('note', 'x'.repeat(1024 * 1024 + 1)));
        attempt('onTopic', () => ctx.cluster.on('', () => {}));
        return out;
      } });
  },
});
`,
    },
  );

const RELAY = plugin('relay');
const OTHER = plugin('other');

type Got = { got: Array<{ payload: unknown; from: string }>; nodeId: string; shared: boolean };

describe('ctx.cluster between two panel processes on one PostgreSQL', () => {
  let pair: PanelPair;
  let b: TestPanel;
  let ownerA: TestClient;
  let ownerB: TestClient;

  beforeAll(async () => {
    ({ b, ownerA, ownerB } = pair = await startPanelPair({ plugins: [RELAY, OTHER] }));
  });
  afterAll(() => pair?.close());

  const got = async (c: TestClient, id = 'relay') => (await c.get(`/api/v1/p/${id}/got`)).body as Got;

  it('a message sent on one process reaches the plugin on the other, tagged with the sender, and not the sender itself', async () => {
    const sent = await ownerA.post('/api/v1/p/relay/send', { payload: { hello: 'B' } });
    expect(sent.status).toBe(200);
    const onB = await until(async () => (await got(ownerB)).got.find((g) => (g.payload as { hello?: string }).hello === 'B'), 'B to hear A');
    expect(onB.from).toBe(sent.body.nodeId);
    const b0 = await got(ownerB);
    expect(b0.nodeId).not.toBe(sent.body.nodeId);
    expect(b0.shared).toBe(true);
    // A never hears itself; the other plugin never hears relay's topic.
    await ownerB.post('/api/v1/p/relay/send', { payload: { marker: 'round trip' } });
    await until(async () => (await got(ownerA)).got.some((g) => (g.payload as { marker?: string }).marker === 'round trip'), 'A to hear B');
    expect((await got(ownerA)).got.some((g) => (g.payload as { hello?: string }).hello === 'B')).toBe(false);
    expect((await got(ownerB, 'other')).got).toEqual([]);
    expect((await got(ownerA, 'other')).got).toEqual([]);
  });

  it('messages larger than one notification arrive whole, byte for byte, and in the order sent', async () => {
    // Multi-byte characters, quotes, newlines and a surrogate pair at every slice boundary candidate.
    const big = { text: 'ü"\n😀\\'.repeat(40_000), n: 1 };
    const payloads = [big, { small: 2 }, { ...big, n: 3 }, { small: 4 }];
    for (const payload of payloads) expect((await ownerA.post('/api/v1/p/relay/send', { topic: 'note', payload })).status).toBe(200);
    const arrived = await until(async () => {
      const list = (await got(ownerB)).got.map((g) => g.payload as { n?: number; small?: number; text?: string });
      const mine = list.filter((p) => p.n !== undefined || p.small !== undefined);
      return mine.length >= 4 ? mine : undefined;
    }, 'the four messages on B');
    expect(arrived.map((p) => p.n ?? p.small)).toEqual([1, 2, 3, 4]);
    expect(arrived[0]).toEqual(big);
    expect(arrived[2]).toEqual({ ...big, n: 3 });
  });

  it('refuses bad topics, non-JSON and oversized payloads in the plugin’s call', async () => {
    const r = (await ownerA.get('/api/v1/p/relay/refusals')).body as Record<string, string>;
    expect(r.topic).toMatch(/^TypeError: cluster topic "Bad Topic!" must be/);
    expect(r.undefined).toMatch(/^TypeError: .*needs a JSON payload/);
    expect(r.bigint).toMatch(/^TypeError: .*BigInt/);
    expect(r.oversize).toMatch(/^RangeError: cluster message of \d+ bytes is over the limit of 1048576/);
    expect(r.onTopic).toMatch(/^TypeError: cluster topic/);
  });

  it('disabling the plugin on a process removes its handlers there', async () => {
    const regs = (await ownerB.get('/api/v1/plugins/relay')).body.registrations as string[];
    expect(regs).toContain('cluster topic note');
    const before = (await got(ownerA, 'other')).got.length;
    // Disabled through B's host only: cluster-wide plugin lifecycle is not what this test is about.
    await b.panel.plugins.disable('relay');
    expect(b.panel.kernel.pluginChannels['handlers'].has('relay\u0000note')).toBe(false);
    expect(b.panel.kernel.pluginChannels['handlers'].has('other\u0000note')).toBe(true);
    // The other plugin on A still hears B.
    await ownerB.post('/api/v1/p/other/send', { payload: { after: 'disable' } });
    await until(async () => (await got(ownerA, 'other')).got.length > before, 'A’s other plugin to hear B');
  });
});

describe('sliceByBytes', () => {
  it('keeps every slice within the byte limit, never splits a character, and loses nothing', () => {
    const text = 'aé😀"\\\n'.repeat(5000);
    for (const limit of [7, 100, 7700]) {
      const slices = sliceByBytes(text, limit);
      expect(slices.join('')).toBe(text);
      for (const s of slices) {
        expect(Buffer.byteLength(s)).toBeLessThanOrEqual(limit);
        expect(s.length).toBeGreaterThan(0);
        // A lone half of a surrogate pair would come back from UTF-8 as U+FFFD.
        expect(Buffer.from(s).toString('utf8')).toBe(s);
      }
    }
  });
});

const TUNER = writePluginPackage(
  {
    name: 'mpanel-plugin-tuner', version: '1.0.0', type: 'module', main: 'index.js',
    mpanel: {
      id: 'tuner', displayName: 'Tuner', sdk: '^0.1.1', permissions: [{ name: 'tuner.use', description: 'use it' }],
      settings: { type: 'object', properties: { greeting: { type: 'string', default: 'hi' } } },
    },
  },
  {
    'index.js': `import { definePlugin } from '@mpanel/sdk';
export default definePlugin({
  setup(ctx) {
    let heard = null;
    ctx.settings.onChange((s) => { heard = s.greeting; });
    ctx.routes.add({ method: 'GET', path: '/hello', summary: 'hello', permission: 'tuner.use',
      handler: () => ({ greeting: ctx.settings.get().greeting, heard, node: ctx.cluster.nodeId }) });
  },
});
`,
  },
);

describe('a plugin change made through one process applies on the others', () => {
  let pair: PanelPair;
  let b: TestPanel;
  let ownerA: TestClient;
  let ownerB: TestClient;

  beforeAll(async () => {
    ({ b, ownerA, ownerB } = pair = await startPanelPair({ plugins: [TUNER] }));
  });
  afterAll(() => pair?.close());

  const helloOnB = () => ownerB.get('/api/v1/p/tuner/hello');
  /** Entries the plugin hosts wrote (the route's own entry is the admin's). */
  const hostAudits = async (action: string) =>
    ((await ownerA.get(`/api/v1/audit?action=${action}&limit=100`)).body.items as Array<{ target: string; actorLabel: string }>)
      .filter((e) => e.target === 'plugin:tuner' && e.actorLabel === 'plugin host').length;
  /** Waits until B's plugin host has finished what it was told (its operations are serialised). */
  const settledOnB = () => (b.panel.plugins as unknown as { queue: Promise<unknown> }).queue;

  it('disable and enable on A stop and start the plugin on B, audited once', async () => {
    expect((await helloOnB()).status).toBe(200);
    const disables = await hostAudits('plugin.disable');
    expect((await ownerA.post('/api/v1/plugins/tuner/disable')).status).toBe(200);
    await until(async () => (await helloOnB()).status === 404 || undefined, 'the route gone on B');
    expect(b.panel.plugins.isActive('tuner')).toBe(false);
    await settledOnB();
    // B followed without writing an audit entry or a state of its own.
    expect(await hostAudits('plugin.disable')).toBe(disables + 1);
    expect((await ownerB.get('/api/v1/plugins/tuner')).body.state).toBe('disabled');

    expect((await ownerA.post('/api/v1/plugins/tuner/enable')).status).toBe(200);
    const back = await until(async () => {
      const r = await helloOnB();
      return r.status === 200 ? r : undefined;
    }, 'the route back on B');
    expect(back.body.node).toBe(b.panel.kernel.cluster.nodeId);
    await settledOnB();
    expect(await hostAudits('plugin.enable')).toBe(1);
  });

  it('settings changed on A reach the plugin on B and its onChange listener', async () => {
    expect((await ownerA.request('PUT', '/api/v1/plugins/tuner/settings', { greeting: 'hello from A' })).status).toBe(200);
    const r = await until(async () => {
      const res = await helloOnB();
      return res.body.greeting === 'hello from A' ? res : undefined;
    }, 'the new settings on B');
    expect(r.body.heard).toBe('hello from A');
  });

  it('a change whose announcement B missed is applied by B’s reconcile pass', async () => {
    // Written behind everyone's back: no announcement reaches B.
    await sql(pair.db.url, `update plugin set settings = '{"greeting":"missed"}' where id = 'tuner'`);
    expect((await helloOnB()).body.greeting).not.toBe('missed');
    expect(await b.panel.plugins.reconcile()).toEqual(['tuner']);
    expect((await helloOnB()).body).toMatchObject({ greeting: 'missed', heard: 'missed' });
    expect(await b.panel.plugins.reconcile()).toEqual([]);
    await sql(pair.db.url, "update plugin set state = 'disabled' where id = 'tuner'");
    expect(await b.panel.plugins.reconcile()).toEqual(['tuner']);
    expect((await helloOnB()).status).toBe(404);
    await sql(pair.db.url, "update plugin set state = 'enabled' where id = 'tuner'");
    expect(await b.panel.plugins.reconcile()).toEqual(['tuner']);
    expect((await helloOnB()).status).toBe(200);
  });

  it('uninstalling on A removes the plugin on B', async () => {
    expect((await ownerA.delete('/api/v1/plugins/tuner')).status).toBe(200);
    await until(async () => (await helloOnB()).status === 404 || undefined, 'the route gone on B');
    expect(b.panel.plugins.isActive('tuner')).toBe(false);
    expect((await ownerB.get('/api/v1/plugins/tuner')).status).toBe(404);
  });
});

describe('a registry plugin installed through one process starts on a process with its own data directory', () => {
  let registry: TestRegistry;
  let pair: PanelPair;
  let a: TestPanel;
  let ownerA: TestClient;
  let ownerB: TestClient;

  beforeAll(async () => {
    registry = await startRegistry();
    await registry.publish(helloAtVersion('1.0.0'));
    ({ a, ownerA, ownerB } = pair = await startPanelPair({ config: { registryUrl: registry.url } }));
    // Separate data directories: B has none of A's files, as on another machine.
    expect(a.dataDir).not.toBe(pair.b.dataDir);
  });
  afterAll(async () => {
    await pair?.close();
    await registry?.close();
  });

  /** Stops B and starts it again on its data directory (B's restart). */
  async function restartB(): Promise<void> {
    const dataDir = pair.b.dataDir;
    await pair.b.close();
    pair.b = await startTestPanel({ db: pair.db, dataDir, config: { registryUrl: registry.url } });
    ownerB = await pair.b.owner();
  }

  it('B fetches the approved tarball into its own data directory and serves the plugin', async () => {
    const preview = await ownerA.get('/api/v1/plugin-catalog/preview?package=@mpanel/plugin-hello');
    const res = await ownerA.post('/api/v1/plugins', { package: '@mpanel/plugin-hello', approve: { capabilities: [], integrity: preview.body.integrity } });
    expect(res.status, res.text).toBe(201);
    const onB = await until(async () => {
      const r = await ownerB.get('/api/v1/p/hello/hello');
      return r.status === 200 ? r : undefined;
    }, 'hello on B', 20_000);
    expect(onB.status).toBe(200);
    expect(fs.existsSync(path.join(pair.b.dataDir, 'plugins', 'hello', '1.0.0', 'package.json'))).toBe(true);
  });

  it('a process restarted later fetches it at start as well', async () => {
    fs.rmSync(path.join(pair.b.dataDir, 'plugins', 'hello'), { recursive: true, force: true });
    await restartB();
    expect((await ownerB.get('/api/v1/p/hello/hello')).status).toBe(200);
  });

  it('refuses a tarball that is not the one the admin approved', async () => {
    // As if the registry's copy changed after approval: the recorded integrity no longer matches.
    await sql(pair.db.url, "update plugin set integrity = 'sha512-' || repeat('A', 86) || '==' where id = 'hello'");
    fs.rmSync(path.join(pair.b.dataDir, 'plugins', 'hello'), { recursive: true, force: true });
    await restartB();
    expect((await ownerB.get('/api/v1/p/hello/hello')).status).toBe(404);
    expect(pair.b.panel.plugins.isActive('hello')).toBe(false);
    expect(fs.existsSync(path.join(pair.b.dataDir, 'plugins', 'hello', '1.0.0'))).toBe(false);
    // Still recorded as enabled for the processes that have the approved files.
    expect((await ownerA.get('/api/v1/p/hello/hello')).status).toBe(200);
  });
});
