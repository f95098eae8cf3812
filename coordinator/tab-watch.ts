// What happened to the headless runner's tabs that the coordinator cannot see: a renderer that
// crashed, a browser that exited, a page or worker error. Kept (the last few per tab) so that a
// stalled or timed-out run says which tab went and why, not only that ranks are missing.
import type { Browser, Page } from 'playwright-core';

const KEPT_PER_TAB = 4;

export class TabWatch {
  private readonly events = new Map<number, string[]>();
  private closing = false;

  /** Records tab i's crash, its browser's exit and its errors (console errors include workers'). */
  watch(i: number, browser: Browser, page: Page, onPageError?: (tab: number, message: string) => void): void {
    page.on('crash', () => this.note(i, 'the page crashed'));
    page.on('pageerror', (e) => {
      this.note(i, `page error: ${e.message}`);
      onPageError?.(i, e.message);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') this.note(i, `console error: ${m.text()}`);
    });
    browser.on('disconnected', () => {
      if (!this.closing) this.note(i, 'its browser exited');
    });
  }

  /** from now on browsers exit because the runner closes them */
  shuttingDown(): void {
    this.closing = true;
  }

  private note(i: number, what: string): void {
    const list = this.events.get(i) ?? [];
    list.push(`${new Date().toISOString().slice(11, 19)} ${what.slice(0, 300)}`);
    this.events.set(i, list.slice(-KEPT_PER_TAB));
  }

  /** '' when nothing happened; else '; tab 2: 10:01:02 the page crashed, …' for error messages */
  summary(): string {
    const parts = [...this.events].sort(([a], [b]) => a - b).map(([i, list]) => `tab ${i}: ${list.join(' | ')}`);
    return parts.length ? `; what the tabs saw: ${parts.join('; ')}` : '';
  }
}
