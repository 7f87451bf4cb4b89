import { defineEntity, p } from '@mikro-orm/core';
import { tenantFilter } from './tenant-filter.js';

const UserSchema = defineEntity({
  name: 'User',
  tableName: 'app_user',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    email: p.text(),
    name: p.text(),
    passwordHash: p.text().hidden(),
    emailVerifiedAt: p.datetime().nullable(),
    disabledAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    passwordChangedAt: p.datetime(),
  },
  filters: tenantFilter('tenantId'),
});
export class User extends UserSchema.class {}
UserSchema.setClass(User);
export { UserSchema };
