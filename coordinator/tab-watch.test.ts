// A tab's crash, its errors and its browser's exit reach the headless runner's error messages.
import { describe, expect, it } from 'vitest';
import { launchChromium } from '../src/node/chromium';
import { TabWatch } from './tab-watch';

describe('TabWatch', () => {
  it('names the tab whose page crashed, logged an error or whose browser exited; not a closing runner', async () => {
    const watch = new TabWatch();
    const [first, second] = [await launchChromium(), await launchChromium()];
    try {
      const a = await first.newPage();
      const b = await second.newPage();
      watch.watch(0, first, a);
      watch.watch(1, second, b);
      expect(watch.summary()).toBe('');
      await b.evaluate(() => console.error('worker said no'));
      await a.goto('chrome://crash').catch(() => {});
      await expect.poll(() => watch.summary(), { timeout: 20_000 }).toMatch(/tab 0: [^;]*the page crashed/);
      expect(watch.summary()).toMatch(/tab 1: [^;]*console error: worker said no/);
      await second.close();
      expect(watch.summary()).toMatch(/tab 1: [^;]*its browser exited/);
      watch.shuttingDown();
      await first.close();
      expect(watch.summary()).not.toMatch(/tab 0: [^;]*exited/);
    } finally {
      await Promise.all([first.close(), second.close()]).catch(() => {});
    }
  });
});
