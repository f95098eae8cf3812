// Vite's dev server, in-process, for the GPU tools' own pages (tools/gpu/*.html, which no build
// holds): every module is served from source as it is on disk.
import type { ViteDevServer } from 'vite';

export async function startViteDevServer(
  port = 0,
  host = '127.0.0.1',
): Promise<{ server: ViteDevServer; url: string }> {
  const { createServer } = await import('vite');
  const configFile = new URL('../../vite.config.ts', import.meta.url).pathname;
  // No file watching and no HMR: a headless run must never be reloaded by an edit on disk.
  const server = await createServer({
    configFile,
    server: { port, host, strictPort: port !== 0, hmr: false, watch: null },
    logLevel: 'error',
    clearScreen: false,
  });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('the web server did not bind a port');
  return { server, url: `http://${host}:${addr.port}` };
}
