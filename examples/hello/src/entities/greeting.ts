import { defineEntity, p, tenantScoped } from '@mpanel/sdk';

/** A greeting someone left for their tenant. Lives in the plugin's schema (plugin_hello). */
const GreetingSchema = defineEntity({
  name: 'HelloGreeting',
  tableName: 'greeting',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    message: p.text(),
    createdBy: p.uuid(),
    createdAt: p.datetime(),
  },
  // Other tenants' greetings are invisible in request EntityManagers.
  filters: tenantScoped('tenantId'),
});
export class Greeting extends GreetingSchema.class {}
GreetingSchema.setClass(Greeting);
export { GreetingSchema };
