// Tests serve the app exactly as headless runs do: built (src/node/web-server.ts).
export { startWebServer, type WebServer } from '../src/node/web-server';
