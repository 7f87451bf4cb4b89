// Copies a plugin's prebuilt UI files (plain ES modules) into dist.
import fs from 'node:fs';
const [from, to] = process.argv.slice(2);
fs.rmSync(to, { recursive: true, force: true });
fs.cpSync(from, to, { recursive: true });
