export const AGENT_VERSION = '0.2.0';
