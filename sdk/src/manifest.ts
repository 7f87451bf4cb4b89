/**
 * The plugin manifest: the `mpanel` field of a plugin's package.json. The
 * panel reads it without running plugin code, so the consent screen and the
 * UI can show what a plugin is and asks for before it is installed.
 */
export interface PluginManifest {
  /** Stable id, lowercase with dashes: `hello`, `twofactor`. Routes mount under `/api/v1/p/<id>/`. */
  id: string;
  displayName: string;
  description?: string;
  /** Semver range of the SDK the plugin was built for, e.g. `^0.1.0`. */
  sdk: string;
  /** Other plugins this one needs, with semver ranges: `{ "monitoring": "^1.0.0" }`. */
  requires?: Record<string, string>;
  /**
   * Permissions the plugin defines; names must start with `<id>.`.
   * `defaultRoles` lists built-in roles (`admin`, `reseller`, `customer`, `auditor`)
   * that hold the permission while the plugin is enabled; the platform owner holds all.
   */
  permissions?: Array<{ name: string; description: string; defaultRoles?: Array<'admin' | 'reseller' | 'customer' | 'auditor'> }>;
  /** What the plugin asks the admin to grant, e.g. `db:provision`, `net:listen`, `exec`, `mail:send`. */
  capabilities?: string[];
  /** JSON Schema of the plugin's settings (an object schema); the UI renders it as a form. */
  settings?: Record<string, unknown>;
  /** Path (inside the package) of the prebuilt ES module of the plugin's UI. */
  ui?: string;
  /** UI contributions declared statically. */
  contributes?: PluginContributions;
  /** Path (inside the package) of the server entry; default: the package's `main`. */
  server?: string;
}

export interface PluginContributions {
  menu?: Array<{ id: string; label: string; path: string; icon?: string; permission?: string; order?: number }>;
  panels?: Array<{ id: string; title: string; path: string; permission?: string }>;
  widgets?: Array<{ id: string; title: string; permission?: string; size?: 'small' | 'medium' | 'large' }>;
}

/** Capabilities the panel knows how to explain on the consent screen. Others are allowed but shown as-is. */
export const KNOWN_CAPABILITIES: Readonly<Record<string, string>> = {
  'db:provision': 'Create and drop databases and database users on registered database servers',
  'net:listen': 'Open network listeners',
  'net:connect': 'Make outgoing network connections (e.g. webhooks)',
  exec: 'Run programs on the panel host',
  'mail:send': 'Send e-mail through the panel’s mailer',
  'fs:write': 'Write files outside its own data directory',
};

const id = '^[a-z][a-z0-9-]{1,49}$';
const permissionName = '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+$';
const capability = '^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$';
const relPath = '^(?!/)(?!.*\\.\\.)[A-Za-z0-9._/-]+$';
const uiPath = '^/[A-Za-z0-9._/:-]*$';

/** JSON Schema (draft 2020-12) of the manifest; published as `@mpanel/sdk/manifest.schema.json`. */
export const manifestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:mpanel:schema:plugin-manifest',
  title: 'mpanel plugin manifest (the "mpanel" field of package.json)',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'displayName', 'sdk'],
  properties: {
    id: { type: 'string', pattern: id, description: 'Stable plugin id' },
    displayName: { type: 'string', minLength: 1, maxLength: 100 },
    description: { type: 'string', maxLength: 2000 },
    sdk: { type: 'string', minLength: 1, maxLength: 100, description: 'semver range of @mpanel/sdk' },
    requires: {
      type: 'object',
      maxProperties: 50,
      propertyNames: { pattern: id },
      additionalProperties: { type: 'string', minLength: 1, maxLength: 100 },
    },
    permissions: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'description'],
        properties: {
          name: { type: 'string', pattern: permissionName, maxLength: 200 },
          description: { type: 'string', minLength: 1, maxLength: 500 },
          defaultRoles: { type: 'array', uniqueItems: true, items: { enum: ['admin', 'reseller', 'customer', 'auditor'] } },
        },
      },
    },
    capabilities: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', pattern: capability, maxLength: 100 } },
    settings: { type: 'object', description: 'JSON Schema of the settings object' },
    ui: { type: 'string', pattern: relPath, maxLength: 300 },
    server: { type: 'string', pattern: relPath, maxLength: 300 },
    contributes: {
      type: 'object',
      additionalProperties: false,
      properties: {
        menu: {
          type: 'array', maxItems: 50,
          items: {
            type: 'object', additionalProperties: false, required: ['id', 'label', 'path'],
            properties: {
              id: { type: 'string', pattern: id }, label: { type: 'string', minLength: 1, maxLength: 100 }, path: { type: 'string', pattern: uiPath, maxLength: 300 },
              icon: { type: 'string', maxLength: 100 }, permission: { type: 'string', pattern: permissionName }, order: { type: 'integer' },
            },
          },
        },
        panels: {
          type: 'array', maxItems: 50,
          items: {
            type: 'object', additionalProperties: false, required: ['id', 'title', 'path'],
            properties: { id: { type: 'string', pattern: id }, title: { type: 'string', minLength: 1, maxLength: 100 }, path: { type: 'string', pattern: uiPath, maxLength: 300 }, permission: { type: 'string', pattern: permissionName } },
          },
        },
        widgets: {
          type: 'array', maxItems: 50,
          items: {
            type: 'object', additionalProperties: false, required: ['id', 'title'],
            properties: { id: { type: 'string', pattern: id }, title: { type: 'string', minLength: 1, maxLength: 100 }, permission: { type: 'string', pattern: permissionName }, size: { enum: ['small', 'medium', 'large'] } },
          },
        },
      },
    },
  },
} as const;
