#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { Agent } from './agent.js';
import { enroll } from './enroll.js';
import { readConfig, DEFAULT_CONFIG } from './config.js';
import { DiskBuffer } from './buffer/disk-buffer.js';
import { RecordBuffer } from './buffer/record-buffer.js';
import { SystemCollector } from './collect/index.js';
import { AGENT_VERSION } from './version.js';
import path from 'node:path';
import fs from 'node:fs';

const HELP: Record<string, string> = {
  main: `mpanel-agent ${AGENT_VERSION} — reports this server's metrics to an mpanel panel

Usage: mpanel-agent <command> [options]

Commands:
  enroll    exchange an enrolment token for this agent's credential
  run       connect to the panel and report metrics (run it from systemd)
  status    show the configuration, the sample buffer and the log queue
  collect   print one snapshot of the metrics (no panel needed)

Run "mpanel-agent <command> --help" for a command's options.
`,
  enroll: `Usage: mpanel-agent enroll --url <panel> --token <token> [options]

Exchanges a single-use enrolment token (created in the panel under
Monitoring → Enrolment tokens) for this agent's own credential, pins the
panel's Ed25519 public key and writes the configuration with mode 0600.

Options:
  --url <url>            the panel's address, e.g. https://panel.example.com
  --token <token>        the enrolment token
  --fingerprint <fp>     refuse unless the panel's key has this fingerprint (sha256:…)
  --name <name>          the name to show in the panel (default: hostname)
  --config <file>        configuration file (default: ${DEFAULT_CONFIG})
  --data-dir <dir>       where the sample buffer lives (default: /var/lib/mpanel-agent)
  -h, --help             this help
`,
  run: `Usage: mpanel-agent run [options]

Connects to the panel (socket.io), collects a snapshot every interval (10 s
unless the panel sets another) into an on-disk buffer and sends it; while the
panel can't be reached it keeps collecting and replays in order afterwards.

Options:
  --config <file>        configuration file (default: ${DEFAULT_CONFIG})
  -h, --help             this help
`,
  status: `Usage: mpanel-agent status [options]

Prints the panel URL, agent id, key fingerprint, allowlisted commands, the
sample buffer and the log lines' queue (each: pending, dropped, last
acknowledged sequence number) as JSON.

Options:
  --config <file>        configuration file (default: ${DEFAULT_CONFIG})
  -h, --help             this help
`,
  collect: `Usage: mpanel-agent collect [options]

Prints one snapshot of every metric as JSON (rates over --sample-ms).

Options:
  --sample-ms <ms>       time between the two readings rates are computed from (default 1000)
  -h, --help             this help
`,
};

function fail(message: string, code = 1): never {
  process.stderr.write(`mpanel-agent: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP.main!);
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return;
  }
  if (!HELP[command] || command === 'main') fail(`unknown command "${command}"\n\n${HELP.main}`, 2);
  const options = {
    help: { type: 'boolean', short: 'h' },
    config: { type: 'string' },
    url: { type: 'string' },
    token: { type: 'string' },
    fingerprint: { type: 'string' },
    name: { type: 'string' },
    'data-dir': { type: 'string' },
    'sample-ms': { type: 'string' },
  } as const;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: rest, options, strict: true, allowPositionals: false }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP[command]}`, 2);
  }
  if (values.help) {
    process.stdout.write(HELP[command]!);
    return;
  }
  const configFile = (values.config as string | undefined) ?? DEFAULT_CONFIG;
  switch (command) {
    case 'enroll': {
      if (!values.url || !values.token) fail(`--url and --token are required\n\n${HELP.enroll}`, 2);
      const c = await enroll({ url: values.url as string, token: values.token as string, configFile, dataDir: values['data-dir'] as string | undefined, name: values.name as string | undefined, fingerprint: values.fingerprint as string | undefined });
      process.stdout.write(`enrolled as agent ${c.agentId}\npanel key ${c.panelKeyFingerprint}\nconfiguration written to ${configFile} (mode 0600)\n`);
      return;
    }
    case 'run': {
      const config = readConfig(configFile);
      const agent = new Agent(config);
      agent.start();
      const stop = () => {
        agent.stop();
        setTimeout(() => process.exit(0), 200).unref();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      return;
    }
    case 'status': {
      const c = readConfig(configFile);
      const buffer = new DiskBuffer(path.join(c.dataDir, c.agentId), c.buffer);
      // The log lines' queue exists once `run` shipped logs; reading its stats opens no log file.
      const logDir = path.join(c.dataDir, c.agentId, 'logs');
      const logQueue = fs.existsSync(logDir) ? new RecordBuffer(logDir).stats() : null;
      process.stdout.write(`${JSON.stringify({ url: c.url, agentId: c.agentId, panelKeyFingerprint: c.panelKeyFingerprint, commands: Object.keys(c.commands ?? {}), logs: c.logs ?? [], buffer: buffer.stats(), logQueue }, null, 2)}\n`);
      return;
    }
    case 'collect': {
      const collector = new SystemCollector();
      collector.collect();
      await new Promise((r) => setTimeout(r, Number(values['sample-ms'] ?? 1000)));
      const snap = collector.collect();
      process.stdout.write(`${JSON.stringify(Object.fromEntries(snap.names.map((n, i) => [n, snap.values[i]])), null, 2)}\n`);
      return;
    }
  }
}

main(process.argv.slice(2)).catch((err) => fail((err as Error).message));
