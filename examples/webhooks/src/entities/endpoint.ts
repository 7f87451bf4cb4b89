import { defineEntity, p, tenantScoped } from '@mpanel/sdk';

/**
 * A URL that receives signed POSTs for the events of one tenant's subtree.
 * The secret is stored as is (it is needed to sign every delivery) and is
 * shown to the user once, when the endpoint is created or its secret rotated.
 */
const EndpointSchema = defineEntity({
  name: 'WebhookEndpoint',
  tableName: 'endpoint',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    /** Materialised path of the tenant (`/<root>/…/<tenant>/`), copied at creation: events are matched by prefix. */
    tenantPath: p.text(),
    url: p.text(),
    description: p.text(),
    secret: p.text(),
    /** Event type patterns: `*`, `tenant.*`, `user.created`. */
    events: p.json<string[]>(),
    active: p.boolean(),
    createdBy: p.uuid().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  // Endpoints of tenants outside the caller's subtree are invisible in request EntityManagers.
  filters: tenantScoped('tenantId'),
});
export class Endpoint extends EndpointSchema.class {}
EndpointSchema.setClass(Endpoint);
export { EndpointSchema };
