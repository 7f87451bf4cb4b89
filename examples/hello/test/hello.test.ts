import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPanel, type TestPanel } from '@mpanel/sdk/testing';

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('hello plugin (SDK test harness, real core + PostgreSQL)', () => {
  let t: TestPanel;
  beforeAll(async () => {
    t = await createTestPanel({ plugins: [pluginDir] });
  });
  afterAll(async () => t?.close());

  it('greets a customer with the configured word', async () => {
    const res = await t.as('customer').get('/api/v1/p/hello/hello');
    expect(res.status).toBe(200);
    expect(res.body.message).toBe('Hello, customer@harness.test!');
    const settings = await t.as('owner').request('PUT', '/api/v1/plugins/hello/settings', { greeting: 'Howdy', maxLength: 20 });
    expect(settings.status).toBe(200);
    expect((await t.as('customer').get('/api/v1/p/hello/hello')).body.message).toBe('Howdy, customer@harness.test!');
  });

  it('refuses settings that break the schema', async () => {
    const res = await t.as('owner').request('PUT', '/api/v1/plugins/hello/settings', { greeting: '', extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation-failed');
  });

  it('keeps greetings inside the tenant and audits them', async () => {
    const created = await t.as('customer').post('/api/v1/p/hello/greetings', { message: 'hi there' });
    expect(created.status).toBe(201);
    expect(created.body.tenantId).toBe(t.tenants.customer);
    const mine = await t.as('customer').get('/api/v1/p/hello/greetings');
    expect(mine.body.map((g: { id: string }) => g.id)).toContain(created.body.id);
    const other = await t.as('otherCustomer').get('/api/v1/p/hello/greetings');
    expect(other.body.map((g: { id: string }) => g.id)).not.toContain(created.body.id);
    expect((await t.as('otherCustomer').delete(`/api/v1/p/hello/greetings/${created.body.id}`)).status).toBe(404);
    // The reseller sees its customers' greetings.
    const reseller = await t.as('reseller').get('/api/v1/p/hello/greetings');
    expect(reseller.body.map((g: { id: string }) => g.id)).toContain(created.body.id);
    const audit = await t.as('owner').get('/api/v1/audit?action=hello.greeting.create');
    expect(audit.body.items[0]).toMatchObject({ target: `greeting:${created.body.id}`, outcome: 'success', tenantId: t.tenants.customer });
    const rows = await t.sql<{ n: string }>('select count(*) as n from plugin_hello.greeting');
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('answers problems for bad input and missing permissions', async () => {
    const long = await t.as('customer').post('/api/v1/p/hello/greetings', { message: 'x'.repeat(21) });
    expect(long.status).toBe(422);
    expect(long.body.code).toBe('greeting-too-long');
    expect(long.headers.get('content-type')).toContain('application/problem+json');
    const bad = await t.as('customer').post('/api/v1/p/hello/greetings', { message: 5 });
    expect(bad.status).toBe(400);
    expect((await t.as('auditor').post('/api/v1/p/hello/greetings', { message: 'no' })).status).toBe(403);
    expect((await t.anonymous().get('/api/v1/p/hello/hello')).status).toBe(401);
  });

  it('survives a panel restart: data, plugin and logged-in clients', async () => {
    const before = await t.as('customer').get('/api/v1/p/hello/greetings');
    const oldPanel = t.panel;
    await t.restart();
    expect(t.panel).not.toBe(oldPanel);
    const after = await t.as('customer').get('/api/v1/p/hello/greetings');
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
  });

  it('disable removes routes and permissions at once; enable brings them back', async () => {
    const off = await t.as('owner').post('/api/v1/plugins/hello/disable');
    expect(off.status).toBe(200);
    expect(off.body.state).toBe('disabled');
    expect((await t.as('customer').get('/api/v1/p/hello/hello')).status).toBe(404);
    const perms = await t.as('owner').get('/api/v1/permissions');
    expect(perms.body.map((p: { name: string }) => p.name)).not.toContain('hello.read');
    const on = await t.as('owner').post('/api/v1/plugins/hello/enable');
    expect(on.status).toBe(200);
    expect((await t.as('customer').get('/api/v1/p/hello/hello')).status).toBe(200);
  });
});
