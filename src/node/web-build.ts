// The web app built for headless runs (Vite's production build, about 1.5 s here). A tab then
// loads a few bundles instead of Vite's hundreds of dev modules: a 4-tab run on this 2-core
// machine reached its first step 7.5 s sooner (measured: 'running' at 7.0 s instead of 14.5 s).
// TABTRON_WEB_DIST names a build made earlier (the e2e project's global setup makes one, with the
// test pages), which is then served instead of building again. Vite loads on first use, so that
// a bundled CLI without Vite (a GPU machine's, serving dist/) still starts.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export const WEB_DIST_ENV = 'TABTRON_WEB_DIST';

export const repoRoot = new URL('../..', import.meta.url).pathname;
const TEST_PAGES_DIR = join(repoRoot, 'e2e', 'pages');

export interface WebBuildOptions {
  /** also the test harness pages of e2e/pages/ (served at /e2e/pages/NAME.html) */
  testPages?: boolean;
}

/** Builds the app (index.html, admin.html and, if asked, the test pages) into `outDir`. */
export async function buildWebApp(outDir: string, o: WebBuildOptions = {}): Promise<void> {
  const { build } = await import('vite');
  const input: Record<string, string> = {
    main: join(repoRoot, 'index.html'),
    admin: join(repoRoot, 'admin.html'),
  };
  if (o.testPages) {
    for (const name of readdirSync(TEST_PAGES_DIR).filter((n) => n.endsWith('.html')))
      input[`e2e-${basename(name, '.html')}`] = join(TEST_PAGES_DIR, name);
  }
  await build({
    configFile: join(repoRoot, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir, emptyOutDir: true, rollupOptions: { input } },
  });
}

export interface WebBuild {
  dir: string;
  /** removes the build if this process made it (a TABTRON_WEB_DIST build stays) */
  dispose(): void;
}

/** The build TABTRON_WEB_DIST names, or a fresh one in a temporary directory. */
export async function headlessWebBuild(o: WebBuildOptions = {}): Promise<WebBuild> {
  const given = process.env[WEB_DIST_ENV];
  if (given) {
    if (!existsSync(join(given, 'index.html')))
      throw new Error(`${WEB_DIST_ENV}=${given} holds no built web app (no index.html there)`);
    return { dir: given, dispose: () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'tabtron-web-'));
  // also on an exit that never disposes it (Ctrl-C: another SIGINT handler may exit first)
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  const dispose = () => {
    process.off('exit', remove);
    remove();
  };
  try {
    await buildWebApp(dir, o);
  } catch (e) {
    dispose();
    throw e;
  }
  return { dir, dispose };
}
