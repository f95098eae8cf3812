// Tests launch Chromium exactly as the CLI does.
export { chromiumPath, CHROMIUM_ARGS, launchChromium } from '../src/node/chromium';
