// Publishes the manifest JSON Schema as a file (`@mpanel/sdk/manifest.schema.json`).
import fs from 'node:fs';
import { manifestSchema } from '../dist/manifest.js';
fs.writeFileSync(new URL('../dist/manifest.schema.json', import.meta.url), `${JSON.stringify(manifestSchema, null, 2)}\n`);
