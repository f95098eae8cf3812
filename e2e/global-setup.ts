// The e2e project's global setup: one build of the web app, with the test pages, for every spec
// file and every process they start (coordinators, the CLI), through TABTRON_WEB_DIST
// (src/node/web-build.ts). Removed when the project is done.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWebApp, WEB_DIST_ENV } from '../src/node/web-build';

export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'tabtron-e2e-web-'));
  await buildWebApp(dir, { testPages: true });
  process.env[WEB_DIST_ENV] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
