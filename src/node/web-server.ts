// Serves the web app for headless runs, tests and tools on a port of its own: the build
// web-build.ts makes (or TABTRON_WEB_DIST's), with the cross-origin-isolation headers the app
// needs. For tests, also the harness pages of e2e/pages/ and the PyTorch golden fixtures they read
// (tools/reference/fixtures/). Nothing on disk is watched: an edit never reloads a tab.
import express from 'express';
import type { AddressInfo } from 'node:net';
import { isolationHeaders, serveBuilt } from '../../coordinator/web';
import { join } from 'node:path';
import { headlessWebBuild, repoRoot } from './web-build';

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

const FIXTURES = '/tools/reference/fixtures';

export interface WebServerOptions {
  port?: number;
  host?: string;
  /** the test harness pages and the fixtures they read */
  testPages?: boolean;
}

export async function startWebServer(o: WebServerOptions = {}): Promise<WebServer> {
  const { port = 0, host = '127.0.0.1', testPages = false } = o;
  const built = await headlessWebBuild({ testPages });
  const app = express();
  app.use(isolationHeaders, serveBuilt(built.dir));
  if (testPages) app.use(FIXTURES, isolationHeaders, express.static(join(repoRoot, FIXTURES)));
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s)).once('error', reject);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      built.dispose();
    },
  };
}
