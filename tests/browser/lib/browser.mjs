// Debian's chromium driven by playwright-core, with a guard on every page: a console error, a CSP
// violation, an uncaught exception, a failed request or an error answer that the test did not expect,
// a blank body, or a secret in any answer fails the test that opened the page.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.MAYAFLOW_CHROMIUM || '/usr/bin/chromium',
    // playwright-core gives every launch a fresh --user-data-dir of its own (a new temporary folder).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 30000,
  });
}

// The route of a request, for messages: path and query, without the host.
function where(url) {
  const u = new URL(url);
  return u.pathname + u.search;
}

export class Guard {
  // secrets: strings that must appear in no answer; exportPath: the one path whose answer may hold them
  // (the admin's connections export), when `allowExport` is set for this context.
  constructor({ secrets, allowExport = false, label }) {
    this.secrets = secrets;
    this.allowExport = allowExport;
    this.label = label;
    this.problems = [];
    this.expected = []; // {status, pattern, method}
    this.pending = [];
    this.pages = [];
    this.closing = false;
  }

  // Declares an error answer the test expects (e.g. the viewer's 403); it is then not a problem.
  expect(status, pattern, method) {
    this.expected.push({ status, pattern, method });
  }

  isExpected(status, url, method) {
    return this.expected.some((e) => e.status === status && (!e.method || e.method === method) &&
      (typeof e.pattern === 'string' ? where(url).includes(e.pattern) : e.pattern.test(where(url))));
  }

  problem(text) {
    this.problems.push(`[${this.label}] ${text}`);
  }

  watchContext(context) {
    context.on('response', (response) => this.pending.push(this.checkResponse(response)));
    context.on('requestfailed', (request) => {
      const failure = request.failure()?.errorText || 'failed';
      // A page leaving closes its event stream and may abort the reads still under way: the browser
      // reports those as ERR_ABORTED. Anything else (refused, reset, blocked) is a failure.
      if (/ERR_ABORTED/.test(failure) && (request.method() === 'GET' || this.closing)) return;
      this.problem(`request failed: ${request.method()} ${where(request.url())}: ${failure}`);
    });
  }

  watchPage(page) {
    this.pages.push(page);
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      // "Failed to load resource: … status of 403" doubles an error answer, which checkResponse judges.
      if (/^Failed to load resource: the server responded with a status of \d+/.test(text)) return;
      this.problem(`console error: ${text}`);
    });
    page.on('pageerror', (error) => this.problem(`uncaught exception: ${error.message}`));
  }

  async checkResponse(response) {
    const request = response.request();
    const url = response.url();
    const method = request.method();
    const status = response.status();
    if (!url.startsWith('http://127.0.0.1')) {
      this.problem(`a request left the loopback: ${url}`);
      return;
    }
    if (status >= 400 && !this.isExpected(status, url, method)) {
      let detail = '';
      try {
        detail = (await response.text()).slice(0, 300);
      } catch {
        // the body is gone (the page closed)
      }
      this.problem(`unexpected ${status} for ${method} ${where(url)} ${detail}`);
    }
    const type = response.headers()['content-type'] || '';
    if (type.startsWith('text/event-stream') || status === 204 || status === 304 || (status >= 300 && status < 400)) return;
    let body;
    try {
      body = await response.text();
    } catch {
      return; // an answer the page no longer holds (navigated away): nothing to read
    }
    const isExport = new URL(url).pathname === '/api/v1/mayaflow/connections/export';
    if (isExport && this.allowExport) return;
    for (const secret of this.secrets) {
      if (body.includes(secret)) this.problem(`a secret (${secret.slice(0, 6)}…) is in the answer to ${method} ${where(url)}`);
    }
  }

  // Checks what a page shows now: not blank, no secret in its HTML, no CSP violation recorded.
  async checkPage(page, name) {
    const state = await page.evaluate(() => ({
      text: (document.body && document.body.innerText || '').trim().length,
      html: document.documentElement.outerHTML,
      csp: (window.__mayaflowCsp || []).slice(),
    }));
    if (state.text === 0) this.problem(`${name}: the page body is blank`);
    for (const secret of this.secrets) {
      if (state.html.includes(secret)) this.problem(`${name}: a secret (${secret.slice(0, 6)}…) is in the page's HTML`);
    }
    for (const violation of state.csp) this.problem(`${name}: CSP violation: ${violation}`);
  }

  async settle() {
    while (this.pending.length) {
      const batch = this.pending.splice(0);
      await Promise.allSettled(batch);
    }
  }
}

// Records CSP violations in the page (an init script is injected by the browser, not by the page, so the
// strict CSP does not stop it).
const cspRecorder = `
  window.__mayaflowCsp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__mayaflowCsp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
  });
`;

export async function newGuardedContext(browser, { baseURL, guard, viewport = DESKTOP, acceptDownloads = false, colorScheme = 'light' }) {
  const context = await browser.newContext({ baseURL, viewport, acceptDownloads, colorScheme });
  context.setDefaultTimeout(15000);
  context.setDefaultNavigationTimeout(20000);
  await context.addInitScript(cspRecorder);
  guard.watchContext(context);
  context.on('page', (page) => guard.watchPage(page));
  return context;
}

// Saves the page at desktop and at phone width (full page) as <dir>/<name>-desktop.png and -phone.png,
// checking it each time.
export async function shoot(page, guard, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const original = page.viewportSize();
  for (const [suffix, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await guard.checkPage(page, `${name} (${suffix})`);
    await page.screenshot({ path: path.join(dir, `${name}-${suffix}.png`), fullPage: true, timeout: 15000 });
  }
  if (original) await page.setViewportSize(original);
}
