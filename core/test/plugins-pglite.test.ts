import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { writePluginPackage } from './helpers/registry.js';
import type { TestClient } from './helpers/client.js';

/**
 * The embedded database has one connection. A plugin route runs in a
 * transaction holding it, so ctx work inside the route must join that
 * transaction rather than wait for another connection (which would never come).
 */
const PLUGIN = writePluginPackage(
  {
    name: 'mpanel-plugin-busy', version: '1.0.0', type: 'module', main: 'index.js',
    mpanel: { id: 'busy', displayName: 'Busy', sdk: '^0.1.0', permissions: [{ name: 'busy.use', description: 'use' }] },
  },
  {
    'index.js': `import { definePlugin, ProblemError } from '@mpanel/sdk';
export default definePlugin({
  migrations: [{ name: '0001', up: (db) => db.execute('create table thing (id serial primary key, name text not null)'), down: (db) => db.execute('drop table thing') }],
  setup(ctx) {
    ctx.routes.add({ method: 'POST', path: '/work', summary: 'ctx work inside a route', permission: 'busy.use', audit: 'busy.work.run',
      schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, fail: { type: 'boolean' } } } },
      handler: async (req) => {
        await ctx.db.transaction((em) => em.execute('insert into plugin_busy.thing (name) values (?)', [req.body.name]));
        await ctx.audit.write({ action: 'busy.thing.added', details: { name: req.body.name } });
        await ctx.events.publish('busy.thing.added', { name: req.body.name });
        const [row] = await ctx.db.em().execute('select count(*)::int as n from plugin_busy.thing');
        if (req.body.fail) throw new ProblemError('refused', 'told to fail', { status: 409 });
        return { count: row.n };
      } });
  },
});
`,
  },
);

describe('plugin ctx work inside routes on the embedded database (PGlite)', () => {
  let tp: TestPanel;
  let owner: TestClient;

  beforeAll(async () => {
    tp = await startTestPanel({ pglite: true, plugins: [PLUGIN] });
    owner = await tp.owner();
  }, 120_000);
  afterAll(async () => tp?.close());

  it('ctx.db, ctx.audit and ctx.events inside a route finish (no second connection needed)', async () => {
    const res = await owner.post('/api/v1/p/busy/work', { name: 'one' });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(1);
    const audit = await owner.get('/api/v1/audit?action=busy.thing.added');
    expect(audit.body.items).toHaveLength(1);
  }, 20_000);

  it('when the route fails, its ctx work is rolled back with it', async () => {
    const res = await owner.post('/api/v1/p/busy/work', { name: 'two', fail: true });
    expect(res.status).toBe(409);
    const ok = await owner.post('/api/v1/p/busy/work', { name: 'three' });
    expect(ok.body.count).toBe(2); // "two" never committed
    const audit = await owner.get('/api/v1/audit?action=busy.thing.added');
    expect(audit.body.items.map((e: { details: { name: string } }) => e.details.name)).toEqual(['three', 'one']);
  }, 20_000);
});
