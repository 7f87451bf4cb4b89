import { ALL_PERMISSIONS } from './permissions.js';

/** A role that exists on every installation; ensured at start (see rbac/roles.ts). */
export interface BuiltinRole {
  key: string;
  name: string;
  description: string;
  permissions: string[];
}

export const BUILTIN_ROLES: BuiltinRole[] = [
  {
    key: 'platform-owner',
    name: 'Platform owner',
    description: 'Everything, including permissions that plugins add later',
    permissions: [ALL_PERMISSIONS],
  },
  {
    key: 'admin',
    name: 'Administrator',
    description: 'Runs the platform day to day, including its plugins; cannot change platform-wide settings',
    permissions: [
      'account.self', 'tenant.read', 'tenant.create', 'tenant.update', 'user.read', 'user.create', 'user.update',
      'role.read', 'role.manage', 'role.assign', 'session.manage', 'audit.read', 'audit.verify', 'plugin.read', 'plugin.manage',
    ],
  },
  {
    key: 'reseller',
    name: 'Reseller',
    description: 'Manages its own customers, their users and quotas',
    permissions: [
      'account.self', 'tenant.read', 'tenant.create', 'tenant.update', 'user.read', 'user.create', 'user.update',
      'role.read', 'role.assign', 'session.manage', 'audit.read',
    ],
  },
  {
    key: 'customer',
    name: 'Customer',
    description: 'Manages only its own account and resources',
    permissions: ['account.self', 'tenant.read', 'user.read'],
  },
  {
    key: 'auditor',
    name: 'Read-only auditor',
    description: 'Reads the audit trail and the directory; changes nothing but its own account',
    permissions: ['account.self', 'tenant.read', 'user.read', 'role.read', 'audit.read', 'audit.verify', 'plugin.read'],
  },
];
