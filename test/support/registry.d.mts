export interface TestRegistry {
  url: string;
  /** Verdaccio's storage directory (tests tamper with tarballs there). */
  storage: string;
  /** Publishes a package directory with `npm publish` (npm's real machinery). */
  publish(dir: string): Promise<void>;
  close(): Promise<void>;
}
export function startRegistry(): Promise<TestRegistry>;
export function writePluginPackage(pkg: Record<string, unknown>, files: Record<string, string>): string;
export function generatedPlugin(id: string, version?: string): string;
