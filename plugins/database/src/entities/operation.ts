import { defineEntity, p, tenantScoped } from '@mpanel/sdk';

export const OPERATION_STATES = ['running', 'succeeded', 'compensated', 'compensation-failed', 'failed'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

/** One provisioning saga (its steps are in operation_step). Tenants see their own. */
const OperationSchema = defineEntity({
  name: 'DatabaseOperation',
  tableName: 'operation',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    kind: p.text(),
    status: p.enum(OPERATION_STATES),
    actorId: p.text().nullable(),
    idempotencyKey: p.text().nullable(),
    requestHash: p.text().nullable(),
    resultSealed: p.text().nullable(),
    resultStatus: p.integer().nullable(),
    error: p.text().nullable(),
    failedStep: p.text().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantScoped('tenantId'),
});
export class Operation extends OperationSchema.class {}
OperationSchema.setClass(Operation);
export { OperationSchema };
