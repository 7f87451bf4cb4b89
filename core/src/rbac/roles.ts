import { randomUUID } from 'node:crypto';
import type { Em } from '../db/orm.js';
import { Role } from '../db/entities/index.js';
import { BUILTIN_ROLES } from './builtin-roles.js';

/** Creates or updates the built-in roles so their permission lists follow the code. */
export async function ensureBuiltinRoles(em: Em): Promise<void> {
  for (const def of BUILTIN_ROLES) {
    const existing = await em.findOne(Role, { key: def.key, tenantId: null, builtin: true });
    if (existing) {
      existing.name = def.name;
      existing.description = def.description;
      existing.permissions = def.permissions;
    } else {
      em.create(Role, { id: randomUUID(), tenantId: null, key: def.key, name: def.name, description: def.description, permissions: def.permissions, builtin: true, createdAt: new Date() });
    }
  }
  await em.flush();
}

export async function builtinRole(em: Em, key: string): Promise<Role> {
  const role = await em.findOne(Role, { key, tenantId: null, builtin: true });
  if (!role) throw new Error(`built-in role "${key}" is missing (migrations not run?)`);
  return role;
}
