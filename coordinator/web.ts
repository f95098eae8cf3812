// Serving the web app: the built `dist/` in production, a build made at start for headless runs
// and browser tests (src/node/web-build.ts), or Vite in middleware mode (development, with HMR).
// All add the cross-origin-isolation headers the app needs.

import express, { type RequestHandler } from 'express';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { headlessWebBuild, repoRoot } from '../src/node/web-build';

/** auto: the built dist/ when there is one, else Vite. build: built now (or TABTRON_WEB_DIST's build). */
export type WebMode = 'auto' | 'dist' | 'build' | 'vite' | 'none';

export const isolationHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  next();
};

export { repoRoot } from '../src/node/web-build';

/** A built app's files (`/admin` finds admin.html). */
export const serveBuilt = (dir: string): RequestHandler => express.static(dir, { extensions: ['html'] });

export interface WebApp {
  handler: RequestHandler | null;
  close(): Promise<void>;
}

/** `server`: the coordinator's HTTP server, on which Vite's HMR socket is served (vite mode).
 *  `watch: false`: no file watcher, so no HMR update ever comes (an edit on disk must never
 *  reload a training tab). */
export async function webApp(
  mode: WebMode,
  server: Server,
  distDir = join(repoRoot, 'dist'),
  watch = true,
): Promise<WebApp> {
  if (mode === 'none') return { handler: null, close: async () => {} };
  if (mode === 'auto') mode = existsSync(join(distDir, 'index.html')) ? 'dist' : 'vite';
  if (mode === 'dist') {
    if (!existsSync(join(distDir, 'index.html'))) {
      throw new Error(`no built web app at ${distDir} (run \`npm run build\`, or start with --web vite)`);
    }
    return { handler: serveBuilt(distDir), close: async () => {} };
  }
  if (mode === 'build') {
    const built = await headlessWebBuild();
    return { handler: serveBuilt(built.dir), close: async () => built.dispose() };
  }
  const { createServer } = await import('vite');
  const vite = await createServer({
    configFile: join(repoRoot, 'vite.config.ts'),
    // Vite's HMR socket rides the coordinator's own server (no port of its own); a page in a run
    // refuses the reload Vite's client does when that socket comes back (src/tab/main.ts)
    server: { middlewareMode: true, ws: { server }, ...(watch ? {} : { watch: null }) },
    appType: 'mpa',
    logLevel: 'error',
  });
  return { handler: vite.middlewares as unknown as RequestHandler, close: () => vite.close() };
}
