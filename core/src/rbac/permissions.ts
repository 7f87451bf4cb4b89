/** A permission known to the panel; plugins add theirs through the SDK. */
export interface PermissionDefinition {
  /** Dotted name, e.g. `user.create` or `<plugin-id>.database.create`. */
  name: string;
  description: string;
  /** `core` or the plugin id that defined it (removed with the plugin). */
  owner: string;
}

/** The special permission held by the platform owner: every permission, including future plugin ones. */
export const ALL_PERMISSIONS = '*';

const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

/** Registry of every permission; routes may only name registered permissions. */
export class PermissionRegistry {
  private readonly permissions = new Map<string, PermissionDefinition>();

  register(def: PermissionDefinition): () => void {
    if (!NAME.test(def.name)) throw new Error(`permission "${def.name}" must be dotted lowercase (e.g. "user.create")`);
    const existing = this.permissions.get(def.name);
    if (existing) throw new Error(`permission "${def.name}" is already registered by ${existing.owner}`);
    this.permissions.set(def.name, def);
    return () => {
      if (this.permissions.get(def.name) === def) this.permissions.delete(def.name);
    };
  }

  has(name: string): boolean {
    return this.permissions.has(name);
  }

  list(): PermissionDefinition[] {
    return [...this.permissions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** Core's own permissions. */
export const CORE_PERMISSIONS: Array<Omit<PermissionDefinition, 'owner'>> = [
  { name: 'account.self', description: 'Use one’s own account: profile, password, sessions and API tokens' },
  { name: 'tenant.read', description: 'See tenants in one’s subtree' },
  { name: 'tenant.create', description: 'Create child tenants (resellers, customers)' },
  { name: 'tenant.update', description: 'Change tenant name, quotas and branding' },
  { name: 'user.read', description: 'See users in one’s subtree' },
  { name: 'user.create', description: 'Create users in one’s subtree' },
  { name: 'user.update', description: 'Change or disable users in one’s subtree' },
  { name: 'role.read', description: 'See roles, permissions and role bindings' },
  { name: 'role.manage', description: 'Create, change and delete custom roles' },
  { name: 'role.assign', description: 'Grant and revoke roles (never more than one holds)' },
  { name: 'session.manage', description: 'See and revoke other users’ sessions in one’s subtree' },
  { name: 'audit.read', description: 'Query and export the audit trail of one’s subtree' },
  { name: 'audit.verify', description: 'Verify the audit hash chain' },
  { name: 'plugin.read', description: 'See installed plugins, their state and the plugin catalog' },
  { name: 'plugin.manage', description: 'Install, enable, disable, upgrade, configure and uninstall plugins (runs their code)' },
  { name: 'platform.manage', description: 'Platform-wide administration' },
];
