// A Vite dev server for browser tests (serves index.html, e2e/pages/*, workers).
import { createServer, type ViteDevServer } from 'vite';

export async function startVite(port = 0): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({ configFile: new URL('../vite.config.ts', import.meta.url).pathname, server: { port, host: '127.0.0.1', strictPort: false }, logLevel: 'error' });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('vite did not bind a port');
  return { server, url: `http://127.0.0.1:${addr.port}` };
}
