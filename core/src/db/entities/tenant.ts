import { defineEntity, p } from '@mikro-orm/core';
import { tenantFilter } from './tenant-filter.js';

/** Kinds of tenant in the tree: platform → reseller → customer. */
export const TENANT_KINDS = ['platform', 'reseller', 'customer'] as const;
export type TenantKind = (typeof TENANT_KINDS)[number];

const TenantSchema = defineEntity({
  name: 'Tenant',
  tableName: 'tenant',
  properties: {
    id: p.uuid().primary(),
    parentId: p.uuid().nullable(),
    /** Materialised path `/<root id>/…/<own id>/` so subtree checks are a prefix match. */
    path: p.text(),
    kind: p.enum(TENANT_KINDS),
    name: p.text(),
    /** Per-tenant quotas (e.g. `{ "users": 10 }`); enforced by the services that create things. */
    quotas: p.json<Record<string, number>>(),
    /** Branding (product name, colours, logo URL) used by the UI shell. */
    branding: p.json<Record<string, string>>(),
    createdAt: p.datetime(),
  },
  filters: tenantFilter('id'),
});
export class Tenant extends TenantSchema.class {}
TenantSchema.setClass(Tenant);
export { TenantSchema };
