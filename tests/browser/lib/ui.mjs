// How the specs drive the UI: its data-test hooks (docs/ui.md lists them) in one place.
import { waitFor } from './daemon.mjs';

export const hook = (name) => `[data-test="${name}"]`;

// Signs in through the login page's form. A page already on the login route keeps its form; any other
// page goes there and waits for the form drawn for that route, not one a re-render is about to replace
// (filling that one left the new form empty and the click did nothing).
export async function signInWithForm(page, { username, password }) {
  const onLogin = await page.evaluate(() => location.pathname === '/' && location.hash.startsWith('#/login'))
    .catch(() => false);
  if (!onLogin) {
    await page.evaluate(() => document.querySelector('[data-test="login-form"]')?.setAttribute('data-stale', '1'))
      .catch(() => {});
    await page.goto('/#/login');
    await page.locator('[data-test="login-form"]:not([data-stale])').waitFor();
  }
  await page.locator(hook('login-username')).fill(username);
  await page.locator(hook('login-password')).fill(password);
  await page.locator(hook('login-submit')).click();
}

// Signs the context in without the form (POST /api/v1/mayaflow/session from the page's context, which
// shares the browser's cookie jar), then opens `route`.
export async function signIn(page, { username, password }, route = '#/dags') {
  await page.goto('/api/v1/health'); // same origin, no app running yet
  const status = await page.evaluate(async ([u, p]) => {
    const response = await fetch('/api/v1/mayaflow/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: u, password: p }),
    });
    await response.text(); // read to the end: leaving the page with the body unread aborts it
    return response.status;
  }, [username, password]);
  if (status !== 200 && status !== 201) throw new Error(`signing in as ${username} answered ${status}`);
  await open(page, route);
}

// Opens a hash route of the one page and waits until the page module has drawn something other than
// "Loading…".
export async function open(page, route) {
  const url = `/${route.startsWith('#') ? route : `#${route}`}`;
  if (new URL(page.url()).pathname === '/' && page.url().includes('#')) {
    await page.evaluate((hash) => {
      location.hash = hash;
    }, url.slice(1));
  } else {
    await page.goto(url);
  }
  await settled(page);
}

// Waits until the main area holds more than a loading line.
export async function settled(page, timeoutMs = 15000) {
  await page.waitForFunction(() => {
    const main = document.querySelector('#main');
    if (!main) return false;
    const text = main.innerText.trim();
    return text.length > 0 && !/^Loading…?$/.test(text) && !main.querySelector('[data-test="loading"]');
  }, null, { timeout: timeoutMs });
}

// Marks the document so that a full reload can be told apart from live updates.
export async function markNoReload(page) {
  await page.evaluate(() => {
    window.__mayaflowNoReload = true;
  });
}

export async function assertNoReload(page) {
  const still = await page.evaluate(() => window.__mayaflowNoReload === true);
  if (!still) throw new Error('the page reloaded (the live update was not live)');
}

// The CSRF token of the page's session, for requests made from the page's context.
export async function csrf(page) {
  return page.evaluate(async () => (await (await fetch('/api/v1/mayaflow/session')).json()).csrf_token);
}

// A request from the page's context (its cookie and, for writes, its CSRF token): {status, body}.
export async function fetchInPage(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const headers = { 'Content-Type': 'application/json' };
    if (m !== 'GET') {
      headers['X-CSRF-Token'] = (await (await fetch('/api/v1/mayaflow/session')).json()).csrf_token;
    }
    const response = await fetch(p, { method: m, headers, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: response.status, body: await response.text() };
  }, [method, path, body]);
}

export { waitFor };
