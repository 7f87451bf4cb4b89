export interface InstalledPlugin {
  id: string;
  package: string;
  version: string;
  source: 'registry' | 'local';
  state: 'enabled' | 'disabled' | 'failed';
  manifest: Record<string, any>;
  grantedCapabilities: string[];
  lastError: string | null;
  errorCount: number;
  running: boolean;
  registrations?: string[];
  installedAt: string;
  updatedAt: string;
}

export interface CatalogEntry {
  name: string;
  version: string;
  description: string;
  keywords?: string[];
  installed: string | null;
}

export interface Preview {
  id: string;
  package: string;
  version: string;
  versions: string[];
  integrity: string;
  displayName: string;
  description: string;
  sdk: string;
  capabilities: Array<{ name: string; description: string }>;
  permissions: Array<{ name: string; description: string; defaultRoles?: string[] }>;
  requires: Record<string, string>;
  contributes: { menu?: Array<{ label: string; path: string }>; panels?: Array<{ title: string; path: string }>; widgets?: Array<{ title: string }> };
  installed: { version: string; state: string; grantedCapabilities: string[] } | null;
}

export const stateTone = (s: string) => (s === 'enabled' ? 'ok' : s === 'failed' ? 'bad' : 'muted') as 'ok' | 'bad' | 'muted';
