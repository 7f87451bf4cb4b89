import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPanel, type TestPanel } from '@mpanel/sdk/testing';

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// A real panel (real core, real PostgreSQL) with this plugin installed, and a
// logged-in user per built-in role. Build first: the panel loads dist/.
describe('{{id}} plugin', () => {
  let t: TestPanel;
  beforeAll(async () => {
    t = await createTestPanel({ plugins: [pluginDir], settings: { '{{id}}': { maxNameLength: 20 } } });
  });
  afterAll(async () => t?.close());

  it('adds an item for the caller’s tenant and audits it', async () => {
    const created = await t.as('customer').post('/api/v1/p/{{id}}/items', { name: 'first' });
    expect(created.status).toBe(201);
    expect(created.body.tenantId).toBe(t.tenants.customer);

    const mine = await t.as('customer').get('/api/v1/p/{{id}}/items');
    expect(mine.status).toBe(200);
    expect(mine.body.map((i: { id: string }) => i.id)).toContain(created.body.id);
    const other = await t.as('otherCustomer').get('/api/v1/p/{{id}}/items');
    expect(other.body.map((i: { id: string }) => i.id)).not.toContain(created.body.id);

    const audit = await t.as('owner').get('/api/v1/audit?action={{id}}.item.create');
    expect(audit.body.items[0]).toMatchObject({ target: `item:${created.body.id}`, outcome: 'success' });
    const rows = await t.sql<{ n: string }>('select count(*) as n from {{schema}}.item');
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('applies its settings and answers problems for bad input', async () => {
    const long = await t.as('customer').post('/api/v1/p/{{id}}/items', { name: 'x'.repeat(21) });
    expect(long.status).toBe(422);
    expect(long.body.code).toBe('item-name-too-long');
    expect((await t.as('customer').post('/api/v1/p/{{id}}/items', { name: 5 })).status).toBe(400);
  });

  it('checks its permissions', async () => {
    expect((await t.as('auditor').get('/api/v1/p/{{id}}/items')).status).toBe(200);
    expect((await t.as('auditor').post('/api/v1/p/{{id}}/items', { name: 'no' })).status).toBe(403);
    expect((await t.anonymous().get('/api/v1/p/{{id}}/items')).status).toBe(401);
  });

  it('contributes its UI module and panel', async () => {
    const res = await t.as('customer').get('/api/v1/ui/contributions');
    const mine = res.body.find((c: { id: string }) => c.id === '{{id}}');
    // Served by the panel under a versioned URL.
    expect(mine.ui).toMatch(/^\/api\/v1\/plugin-ui\/{{id}}\/[^/]+\/index\.js$/);
    expect(mine.panels.length).toBeGreaterThan(0);
    const js = await t.as('customer').get(mine.ui);
    expect(js.status).toBe(200);
    expect(js.text).toContain('export function install');
  });
});
