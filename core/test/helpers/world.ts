import type { TestPanel } from './panel.js';
import type { TestClient } from './client.js';

export const PASSWORD = 'test-password-123';

export interface WorldUser {
  id: string;
  email: string;
  tenantId: string;
  client: TestClient;
}

/**
 * A small tenant tree with one logged-in user per built-in role:
 * platform ─┬─ reseller R ─┬─ customer A
 *           │              └─ customer B
 *           └─ customer C (directly under the platform)
 * owner/admin/auditor live in the platform tenant; reseller in R; customerA in A; customerB in B.
 */
export interface World {
  platformId: string;
  resellerId: string;
  customerAId: string;
  customerBId: string;
  customerCId: string;
  users: Record<'owner' | 'admin' | 'auditor' | 'reseller' | 'customerA' | 'customerB', WorldUser>;
}

export async function buildWorld(tp: TestPanel): Promise<World> {
  const owner = await tp.owner();
  const me = await owner.get('/api/v1/auth/me');
  const platformId: string = me.body.tenant.id;
  const mkTenant = async (parentId: string, kind: string, name: string) => {
    const r = await owner.post('/api/v1/tenants', { parentId, kind, name });
    if (r.status !== 201) throw new Error(`tenant ${name}: ${r.status} ${r.text}`);
    return r.body.id as string;
  };
  const resellerId = await mkTenant(platformId, 'reseller', 'Reseller R');
  const customerAId = await mkTenant(resellerId, 'customer', 'Customer A');
  const customerBId = await mkTenant(resellerId, 'customer', 'Customer B');
  const customerCId = await mkTenant(platformId, 'customer', 'Customer C');
  const mkUser = async (key: string, tenantId: string, role: string): Promise<WorldUser> => {
    const email = `${key.toLowerCase()}@world.test`;
    const r = await owner.post('/api/v1/users', { tenantId, email, name: key, password: PASSWORD, roles: [role] });
    if (r.status !== 201) throw new Error(`user ${key}: ${r.status} ${r.text}`);
    const client = tp.client();
    await client.login(email, PASSWORD);
    return { id: r.body.id, email, tenantId, client };
  };
  const ownerUser = { id: me.body.user.id, email: me.body.user.email, tenantId: platformId, client: owner };
  return {
    platformId, resellerId, customerAId, customerBId, customerCId,
    users: {
      owner: ownerUser,
      admin: await mkUser('admin', platformId, 'admin'),
      auditor: await mkUser('auditor', platformId, 'auditor'),
      reseller: await mkUser('reseller', resellerId, 'reseller'),
      customerA: await mkUser('customerA', customerAId, 'customer'),
      customerB: await mkUser('customerB', customerBId, 'customer'),
    },
  };
}
