import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { buildWorld, type World } from './helpers/world.js';

describe('kernel smoke', () => {
  let tp: TestPanel;
  let world: World;
  beforeAll(async () => {
    tp = await startTestPanel();
    world = await buildWorld(tp);
  });
  afterAll(async () => tp?.close());

  it('each built-in role sees /auth/me with its own tenant', async () => {
    for (const u of Object.values(world.users)) {
      const me = await u.client.get('/api/v1/auth/me');
      expect(me.status).toBe(200);
      expect(me.body.user.email).toBe(u.email);
      expect(me.body.tenant.id).toBe(u.tenantId);
    }
  });

  it('a customer cannot read a sibling customer tenant', async () => {
    const res = await world.users.customerA.client.get(`/api/v1/tenants/${world.customerBId}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
