/** The plugin's settings, as declared by the JSON Schema in package.json (defaults applied by the panel). */
export interface WebhooksSettings {
  /** Attempts per delivery (the first send included) before it is marked `failed`. */
  maxAttempts: number;
  /** Delay before the first retry; doubles with every further retry (with ±20 % jitter). */
  baseDelayMs: number;
  /** Cap of the delay between two attempts. */
  maxDelayMs: number;
  /** Timeout of one attempt (connect + response headers + first bytes of the body). */
  timeoutMs: number;
  /** Allow endpoints on loopback, link-local and private networks (off: they are refused, also after DNS). */
  allowPrivateNetworks: boolean;
  /** Delivered and failed deliveries older than this are removed from the log. */
  retentionDays: number;
}
