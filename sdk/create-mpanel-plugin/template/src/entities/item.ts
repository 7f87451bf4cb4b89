import { defineEntity, p, tenantScoped } from '@mpanel/sdk';

/**
 * An item belonging to a tenant. The panel puts the table in the plugin's own
 * schema ({{schema}}); the columns match src/migrations/0001-init.ts.
 */
const ItemSchema = defineEntity({
  // One ORM holds every plugin's entities: the prefix keeps this one recognisable in its logs and errors.
  name: '{{entityPrefix}}Item',
  tableName: 'item',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    name: p.text(),
    createdBy: p.uuid(),
    createdAt: p.datetime(),
  },
  // Rows of tenants outside the caller's subtree are invisible in request EntityManagers.
  filters: tenantScoped('tenantId'),
});
export class Item extends ItemSchema.class {}
ItemSchema.setClass(Item);
export { ItemSchema };
