// Shared by the Playwright suites: Debian's Chromium, headless, with the flags this closed machine
// needs (tests/README.md), and a page whose console errors, warnings and page errors are kept.
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A new page of `browser` at `url`, ready once the page sets `body[data-ready="1"]`; `problems` collects its errors. */
export async function openPage(browser, url, problems) {
  const page = await browser.newPage();
  page.on('console', m => ['error', 'warning'].includes(m.type()) && problems.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', e => problems.push(`pageerror: ${e.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  return page;
}
