// `npm run registry`: Verdaccio on loopback with registry/config.yaml.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runServer, parseConfigFile } from 'verdaccio';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const configPath = path.join(root, 'registry', 'config.yaml');
const config = parseConfigFile(configPath);
config.self_path = configPath;
config.configPath = configPath;
const port = Number(process.env.REGISTRY_PORT ?? 4873);
const app = await runServer(config);
app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`verdaccio listening on http://127.0.0.1:${port} (storage: registry/.data)\n`);
});
