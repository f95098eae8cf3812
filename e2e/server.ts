// Tests serve the app exactly as the CLI does.
export { startWebServer as startVite } from '../src/node/web-server';
