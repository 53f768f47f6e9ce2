// Shared by the Playwright suites: Debian's Chromium, headless, with the flags this closed machine
// needs (tests/README.md), and a page whose console errors, warnings and page errors are kept.
import { chromium } from 'playwright-core';

/** Chromium, with `extraArgs` after the usual flags (a fake microphone, say). */
export function launch(extraArgs = []) {
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
      ...extraArgs,
    ],
  });
}

/**
 * A new page of `browser` at `url`, ready once the page sets `body[data-ready="1"]`; `problems`
 * collects its errors. With `offsite` (an array), also every request that leaves `url`'s origin,
 * and every response of status 400 or more as a problem.
 */
export async function openPage(browser, url, problems, offsite = null) {
  const page = await browser.newPage();
  page.on('console', m => ['error', 'warning'].includes(m.type()) && problems.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', e => problems.push(`pageerror: ${e.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  if (offsite) {
    const origin = new URL(url).origin;
    page.on('request', r => r.url().startsWith(origin) || r.url().startsWith('data:') || offsite.push(r.url()));
    page.on('response', r => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  }
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60_000 });
  return page;
}

/**
 * A page at `url` in a new Chromium launched with `args` (kept in `browsers`, for the test to
 * close), with the problems and off-site requests it collects.
 */
export async function openIn(browsers, url, args = []) {
  const browser = await launch(args);
  browsers.push(browser);
  const problems = [];
  const offsite = [];
  const page = await openPage(browser, url, problems, offsite);
  return { page, problems, offsite };
}
