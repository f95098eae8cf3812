// The web server of headless runs and tests (web-server.ts) over a real Vite build (web-build.ts):
// the app with the cross-origin-isolation headers; the test pages and fixtures only when asked;
// a TABTRON_WEB_DIST build served as it is, or refused by name when it holds no app.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WEB_DIST_ENV, headlessWebBuild } from './web-build';
import { startWebServer } from './web-server';

const status = async (url: string) => (await fetch(url)).status;

afterEach(() => {
  delete process.env[WEB_DIST_ENV];
});

describe('startWebServer', () => {
  it('serves the built app isolated; the test pages and fixtures only with testPages', async () => {
    for (const testPages of [false, true]) {
      const web = await startWebServer({ testPages });
      try {
        const res = await fetch(`${web.url}/`);
        expect(res.status).toBe(200);
        expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
        expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
        const html = await res.text();
        // built: a hashed bundle, not the source module
        expect(html).toMatch(/assets\/[\w-]+\.js/);
        expect(html).not.toMatch(/src\/tab\/main\.ts/);
        expect(await status(`${web.url}/admin.html`)).toBe(200);
        expect(await status(`${web.url}/e2e/pages/gpu-worker.html`)).toBe(testPages ? 200 : 404);
        expect(await status(`${web.url}/tools/reference/fixtures/rmsnorm-rotary/variant.json`)).toBe(
          testPages ? 200 : 404,
        );
        // nothing else of the repository
        expect(await status(`${web.url}/package.json`)).toBe(404);
      } finally {
        await web.close();
      }
    }
  });

  it("serves TABTRON_WEB_DIST's build without building, and leaves it in place", async () => {
    const made = await headlessWebBuild();
    try {
      process.env[WEB_DIST_ENV] = made.dir;
      const shared = await headlessWebBuild();
      expect(shared.dir).toBe(made.dir);
      shared.dispose();
      expect(existsSync(join(made.dir, 'index.html'))).toBe(true);
    } finally {
      made.dispose();
    }
    expect(existsSync(made.dir)).toBe(false);
  });

  it('refuses a TABTRON_WEB_DIST that holds no app, naming it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tabtron-empty-'));
    try {
      process.env[WEB_DIST_ENV] = empty;
      await expect(startWebServer()).rejects.toThrow(`TABTRON_WEB_DIST=${empty} holds no built web app`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
