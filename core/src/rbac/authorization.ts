import { ALL_PERMISSIONS } from './permissions.js';

/** One role binding, resolved: the permissions it grants on a tenant and everything below it. */
export interface Grant {
  tenantId: string;
  tenantPath: string;
  permissions: ReadonlySet<string>;
}

/**
 * What an actor may do, resolved once per session/token and cached. A grant
 * applies to its tenant's whole subtree; an API token narrows every grant to
 * the token's permission list.
 */
export class Authorization {
  constructor(
    readonly grants: readonly Grant[],
    /** Permissions an API token was limited to; undefined for sessions. */
    readonly tokenScope?: ReadonlySet<string>,
  ) {}

  static none(): Authorization {
    return new Authorization([]);
  }

  private grantAllows(grant: Grant, permission: string): boolean {
    const byRole = grant.permissions.has(permission) || grant.permissions.has(ALL_PERMISSIONS);
    if (!byRole) return false;
    if (!this.tokenScope) return true;
    return this.tokenScope.has(permission) || this.tokenScope.has(ALL_PERMISSIONS);
  }

  /** Held on at least one tenant. Used by the route registry before the handler runs. */
  has(permission: string): boolean {
    return this.grants.some((g) => this.grantAllows(g, permission));
  }

  /** Held on the tenant with this path (a grant on an ancestor counts). */
  hasOn(permission: string, tenantPath: string): boolean {
    return this.grants.some((g) => tenantPath.startsWith(g.tenantPath) && this.grantAllows(g, permission));
  }

  /** Roots of the subtrees this actor can see at all. */
  visibleRoots(): string[] {
    const paths = [...new Set(this.grants.map((g) => g.tenantPath))].sort((a, b) => a.length - b.length);
    // Drop paths already covered by an ancestor.
    return paths.filter((p, i) => !paths.slice(0, i).some((q) => p.startsWith(q)));
  }

  canSeeTenant(tenantPath: string): boolean {
    return this.grants.some((g) => tenantPath.startsWith(g.tenantPath));
  }

  /** Effective permissions on a tenant (for "grant at most what you have" checks). */
  permissionsOn(tenantPath: string, known: readonly string[]): Set<string> {
    const out = new Set<string>();
    for (const p of known) if (this.hasOn(p, tenantPath)) out.add(p);
    if (this.hasOn(ALL_PERMISSIONS, tenantPath)) out.add(ALL_PERMISSIONS);
    return out;
  }

  /** Flat list for `/auth/me` and the UI. */
  summary(): string[] {
    const all = new Set<string>();
    for (const g of this.grants) for (const p of g.permissions) if (this.grantAllows(g, p)) all.add(p);
    return [...all].sort();
  }
}
