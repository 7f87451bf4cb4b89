/** @mpanel/agent as a library (the CLI is `mpanel-agent`). */
export { Agent, DEFAULT_INTERVAL_MS } from './agent.js';
export { SystemCollector, type Snapshot } from './collect/index.js';
export { DiskBuffer, type BufferedSample } from './buffer/disk-buffer.js';
export { LayoutStore } from './buffer/layouts.js';
export { PanelLink, AGENT_NAMESPACE } from './transport/panel-link.js';
export { CommandRunner, type CommandEvent, type Allowlist } from './commands/runner.js';
export { commandSigningInput, verifyCommand, fingerprint, panelKey, type SignedCommand } from './commands/signature.js';
export { LogTailer } from './logs/tailer.js';
export { LogQueue } from './logs/log-queue.js';
export { RecordBuffer } from './buffer/record-buffer.js';
export { enroll } from './enroll.js';
export { readConfig, writeConfig, type AgentConfig } from './config.js';
export { AGENT_VERSION } from './version.js';
