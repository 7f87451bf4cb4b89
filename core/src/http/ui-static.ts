import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import express, { type RequestHandler } from 'express';

/** Paths the SPA fallback never answers (APIs and probes keep their own 404s). */
const NOT_UI = /^\/(api|socket\.io)(\/|$)|^\/(healthz|readyz|metrics)$/;

export interface UiBundle {
  dir: string;
  handlers: RequestHandler[];
  /** CSP hashes of the inline scripts in index.html (the import map). */
  scriptHashes: string[];
}

/** Where the built shell is: MPANEL_UI_DIR, else the installed @mpanel/ui package's dist. */
export function findUiDir(configured?: string): string | null {
  const candidates = configured ? [configured] : [];
  if (!configured) {
    try {
      const pkg = createRequire(import.meta.url).resolve('@mpanel/ui/package.json');
      candidates.push(path.join(path.dirname(pkg), 'dist'));
    } catch {
      // @mpanel/ui is not installed: API only.
    }
  }
  return candidates.find((d) => fs.existsSync(path.join(d, 'index.html'))) ?? null;
}

/**
 * Serves the web shell: hashed assets with long caching, everything else that
 * is not an API path gets index.html (client-side routing). index.html is read
 * once at start; its inline scripts (the import map) are allowed by hash in the CSP.
 */
export function serveUi(dir: string): UiBundle {
  const indexHtml = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const scriptHashes = [...indexHtml.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`,
  );
  const assets = express.static(dir, {
    index: false,
    fallthrough: true,
    setHeaders: (res, file) => {
      // Vite puts content hashes in asset names: they never change.
      if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    },
  });
  const spa: RequestHandler = (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_UI.test(req.path)) return next();
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(indexHtml);
  };
  return { dir, handlers: [assets, spa], scriptHashes };
}
