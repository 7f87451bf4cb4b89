import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import type { TestClient } from './helpers/client.js';

describe('system routes', () => {
  let tp: TestPanel;
  let owner: TestClient;

  beforeAll(async () => {
    tp = await startTestPanel();
    owner = await tp.owner();
  });
  afterAll(async () => tp?.close());

  it('routing: wrong method → 405 with Allow, HEAD as GET, trailing slash tolerated, unknown → 404', async () => {
    const put = await tp.client().request('PUT', '/healthz');
    expect(put.status).toBe(405);
    expect(put.body.code).toBe('method-not-allowed');
    expect(put.headers.get('allow')).toBe('GET');
    const head = await fetch(`${tp.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await tp.client().get('/healthz/')).status).toBe(200);
    const missing = await tp.client().get('/api/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('route-not-found');
  });

  it('/healthz answers ok without credentials', async () => {
    const r = await tp.client().get('/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('/readyz reports ready and the database kind', async () => {
    const r = await tp.client().get('/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready', database: 'postgresql' });
    expect(tp.panel.kernel.dbKind).toBe('postgresql');
  });

  it('/metrics is Prometheus text with request durations by route template', async () => {
    const t = await owner.get('/api/v1/tenants');
    expect(t.status).toBe(200);
    const me = await owner.get('/api/v1/auth/me');
    expect((await owner.get(`/api/v1/tenants/${me.body.tenant.id}`)).status).toBe(200);
    expect((await tp.client().get('/api/v1/no/such/route-abc123')).status).toBe(404);
    const r = await tp.client().get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = r.text;
    expect(text).toContain('# TYPE mpanel_http_request_duration_seconds histogram');
    expect(text).toMatch(/mpanel_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/tenants",status="200"\} [1-9]/);
    // Parameterised routes are labelled by template, never by id; unknown paths share one label.
    expect(text).toMatch(/route="\/api\/v1\/tenants\/:id"/);
    expect(text).not.toContain(me.body.tenant.id);
    expect(text).not.toContain('route-abc123');
    expect(text).toMatch(/route="unmatched",status="404"/);
    expect(text).toContain('mpanel_login_attempts_total');
    expect(text).toMatch(/mpanel_process_cpu_seconds_total|mpanel_nodejs_/);
    // Every sample line is well-formed exposition text.
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfa]+( \d+)?$/);
    }
  });

  it('/metrics: requests refused before routing (415, malformed JSON) do not add a series per path', async () => {
    // Otherwise any anonymous client can grow the metric registry without bound.
    const c = tp.client();
    expect((await c.request('POST', '/junk-415-qwerty', 'a', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await c.request('POST', '/junk-400-asdfgh', '{bad', { 'content-type': 'application/json' })).status).toBe(400);
    const text = (await c.get('/metrics')).text;
    expect(text).not.toContain('junk-415-qwerty');
    expect(text).not.toContain('junk-400-asdfgh');
  });

  it('/api/v1/openapi.json is OpenAPI 3.1.0 listing every registered route with its permission', async () => {
    // A route registered at run time shows up at once.
    const off = tp.panel.kernel.routes.register({
      method: 'GET', path: '/api/v1/test/things/:thingId', summary: 'test thing', permission: 'tenant.read',
      schema: { params: { type: 'object', properties: { thingId: { type: 'string' } }, required: ['thingId'] } },
      handler: () => ({}),
    }, 'test');
    try {
      const r = await tp.client().get('/api/v1/openapi.json');
      expect(r.status).toBe(200);
      const doc = r.body;
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.info.title).toBeTruthy();
      expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
      const routes = tp.panel.kernel.routes.list();
      expect(routes.length).toBeGreaterThan(20);
      const operationIds = new Set<string>();
      let count = 0;
      for (const { def, owner: routeOwner } of routes) {
        const p = def.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        const op = doc.paths[p]?.[def.method.toLowerCase()];
        expect(op, `${def.method} ${def.path}`).toBeDefined();
        count++;
        expect(op['x-mpanel-permission'], `${def.method} ${def.path}`).toBe(def.permission ?? null);
        expect(op['x-mpanel-public']).toBe(def.public === true);
        expect(op['x-mpanel-owner']).toBe(routeOwner);
        // Exactly one permission decision per route.
        if (def.public) expect(op['x-mpanel-permission'], `${def.method} ${def.path}`).toBeNull();
        else expect(op['x-mpanel-permission'], `${def.method} ${def.path}`).toEqual(expect.any(String));
        if (def.public) expect(op.security).toEqual([]);
        else expect(op.security.length).toBeGreaterThan(0);
        if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(def.method)) expect(op['x-mpanel-audit'], `${def.method} ${def.path}`).toBeTruthy();
        expect(operationIds.has(op.operationId), `duplicate operationId ${op.operationId}`).toBe(false);
        operationIds.add(op.operationId);
        // Every templated path parameter is declared (OpenAPI requires it).
        for (const [, name] of p.matchAll(/\{([^}]+)\}/g)) {
          expect(op.parameters.some((x: { name: string; in: string; required: boolean }) => x.name === name && x.in === 'path' && x.required), `${def.method} ${def.path}: path parameter ${name}`).toBe(true);
        }
        expect(op.responses.default.content['application/problem+json']).toBeDefined();
      }
      const documented = Object.values(doc.paths as Record<string, Record<string, unknown>>).reduce((n, ops) => n + Object.keys(ops).length, 0);
      expect(documented).toBe(count);
      expect(doc.paths['/api/v1/test/things/{thingId}'].get['x-mpanel-permission']).toBe('tenant.read');
      expect(doc.paths['/api/v1/tenants'].post['x-mpanel-permission']).toBe('tenant.create');
      expect(doc.paths['/api/v1/audit'].get['x-mpanel-permission']).toBe('audit.read');
      expect(doc.paths['/api/v1/audit/verify'].get['x-mpanel-permission']).toBe('audit.verify');
      expect(doc.paths['/healthz'].get['x-mpanel-public']).toBe(true);
      expect(doc.components.schemas.Problem).toBeDefined();
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    } finally {
      off();
    }
    const after = await tp.client().get('/api/v1/openapi.json');
    expect(after.body.paths['/api/v1/test/things/{thingId}']).toBeUndefined();
  });

  it('system routes answer the same to anonymous and logged-in callers and are not audited', async () => {
    const before = (await owner.get('/api/v1/audit?limit=1')).body.items[0].seq;
    for (const p of ['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json']) {
      expect((await tp.client().get(p)).status, p).toBe(200);
      expect((await owner.get(p)).status, p).toBe(200);
    }
    expect((await owner.get('/api/v1/audit?limit=1')).body.items[0].seq).toBe(before);
  });
});

describe('web shell serving', () => {
  it('serves index.html for client routes with a CSP that allows exactly its inline import map', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { createHash } = await import('node:crypto');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-ui-'));
    const importMap = '{"imports":{"vue":"/assets/vue-abc.js"}}';
    fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html><html><head><script type="importmap">${importMap}</script><script type="module" src="/assets/main-abc.js"></script></head><body><div id="app"></div></body></html>`);
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'assets', 'main-abc.js'), 'console.log(1)');
    const tp = await startTestPanel({ config: { uiDir: dir } });
    try {
      const c = tp.client();
      const index = await c.get('/');
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toContain('text/html');
      const csp = index.headers.get('content-security-policy') ?? '';
      const hash = `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`;
      expect(csp).toContain(`script-src 'self' ${hash}`);
      expect((await c.get('/plugins/hello')).text).toContain('<div id="app">');
      const asset = await c.get('/assets/main-abc.js');
      expect(asset.headers.get('cache-control')).toContain('immutable');
      const api = await c.get('/api/v1/does-not-exist');
      expect(api.status).toBe(404);
      expect(api.headers.get('content-type')).toContain('application/problem+json');
      expect((await c.post('/somewhere', {})).status).toBe(404);
    } finally {
      await tp.close();
    }
  });
});
