import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The template ships next to dist/ in the published package. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../template', import.meta.url));

/**
 * npm never publishes files named `.gitignore` (it turns them into
 * `.npmignore`), so the template stores them under another name.
 */
const RENAMES: Record<string, string> = { _gitignore: '.gitignore' };

const PLACEHOLDER = /\{\{([a-zA-Z]+)\}\}/g;

export type TemplateValues = Record<string, string>;

/**
 * Copies the template into `target`, filling `{{name}}` placeholders.
 * In `.json` files values are JSON-escaped, so a description with quotes
 * still gives a valid package.json. An unknown placeholder is an error:
 * better no plugin than one with `{{typo}}` left in it.
 */
export function renderTemplate(target: string, values: TemplateValues, templateDir = TEMPLATE_DIR): string[] {
  const written: string[] = [];
  for (const rel of listFiles(templateDir)) {
    const outRel = path.join(path.dirname(rel), RENAMES[path.basename(rel)] ?? path.basename(rel));
    const text = fs.readFileSync(path.join(templateDir, rel), 'utf8');
    const out = path.join(target, outRel);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, fill(text, values, rel.endsWith('.json'), rel));
    written.push(outRel.split(path.sep).join('/'));
  }
  return written;
}

function fill(text: string, values: TemplateValues, json: boolean, file: string): string {
  return text.replace(PLACEHOLDER, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template ${file} uses the unknown placeholder {{${key}}}`);
    return json ? JSON.stringify(value).slice(1, -1) : value;
  });
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}
