// The UI under strain: many tabs, the event stream refused, ids of 200+ characters, a phone. Each check
// here stood for a bug of the review of issue 12 (the finding's number in brackets).
import fs from 'node:fs';
import path from 'node:path';

const LONG_DAG = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dags', 'ui_long_ids.yaml'), 'utf8')
  .match(/^dag_id: (\S+)$/m)[1];
const LONG_TASK = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dags', 'ui_long_ids.yaml'), 'utf8')
  .match(/task_id: (\S+)$/m)[1];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

// Headless Chromium reports every page as visible, tab or not: this lets the spec hide a page as a
// browser hides a background tab (document.hidden, visibilityState and the visibilitychange event).
const VISIBILITY = `
  (() => {
    let hidden = false;
    Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
    Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    window.__setHidden = (value) => {
      if (value === hidden) return;
      hidden = value;
      document.dispatchEvent(new Event('visibilitychange'));
    };
  })();
`;

// A request from the page that must be answered within `ms`: "200 in 40 ms" or "no answer in 5000 ms".
function answersWithin(page, ms) {
  return page.evaluate(async (limit) => {
    const started = performance.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), limit);
    try {
      const response = await fetch('/api/v1/dags?limit=1', { signal: abort.signal });
      await response.text();
      return { ok: response.ok, text: `${response.status} in ${Math.round(performance.now() - started)} ms` };
    } catch {
      return { ok: false, text: `no answer in ${limit} ms` };
    } finally {
      clearTimeout(timer);
    }
  }, ms);
}

// How much wider than the window the document is (0 when it fits), and the widest table's overflow.
function overflow(page) {
  return page.evaluate(() => ({
    page: Math.max(0, document.documentElement.scrollWidth - window.innerWidth),
    dagTable: (() => {
      const wrap = document.querySelector('[data-test="dag-table"]')?.closest('.table-wrap');
      return wrap ? Math.max(0, wrap.scrollWidth - wrap.clientWidth) : 0;
    })(),
  }));
}

export default [
  {
    // [1] Each page holds an event stream; Chromium allows 6 connections per host. Eight tabs on run
    // pages, only the front one visible: every tab brought to the front loads and answers at once.
    name: 'robustness: eight tabs on run pages, each answers when brought to the front',
    timeoutMs: 60000,
    async run(t) {
      const { context, page } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      await context.addInitScript(VISIBILITY);
      const pages = [page];
      const front = async (chosen) => {
        for (const p of pages) await p.evaluate((hide) => window.__setHidden && window.__setHidden(hide), p !== chosen);
        await chosen.bringToFront();
      };
      await t.ui.signIn(page, t.fixture.admin, '#/dags/ui_quick/grid');
      const routes = ['#/dags/ui_flaky/grid', '#/dags/ui_quick/graph', `#/dags/ui_quick/runs/${t.fixture.quickRun}/tasks/say_hello`,
        '#/dags/ui_flaky/runs', '#/dags', '#/dags/ui_quick/grid', '#/dags/ui_flaky/graph'];
      const report = [];
      for (const route of routes) {
        const tab = await context.newPage();
        pages.push(tab);
        await front(tab);
        const started = Date.now();
        await tab.goto(`/${route}`, { timeout: 10000 });
        await t.ui.settled(tab, 10000);
        report.push(`${route} ${Date.now() - started} ms`);
      }
      for (const [i, tab] of pages.entries()) {
        await front(tab);
        const answer = await answersWithin(tab, 5000);
        if (!answer.ok) throw new Error(`tab ${i + 1} (${tab.url()}) brought to the front: ${answer.text}; opening: ${report.join(', ')}`);
        report.push(`tab ${i + 1}: ${answer.text}`);
      }
      // The front tab still follows the runs live: a new run shows in its grid without a reload.
      const last = pages[0];
      await front(last);
      await t.ui.markNoReload(last);
      const run = await t.daemon.apiOk('POST', '/api/v1/dags/ui_quick/dagRuns', { dag_run_id: `tabs_${Date.now()}` });
      await waitFor(async () => (await last.locator(`${hook('grid-run')}[data-run="${run.dag_run_id}"]`).count()) === 1,
        { timeoutMs: 8000, what: 'the front tab showing the new run' });
      await t.ui.assertNoReload(last);
      console.log(`       ${report.join('; ')}`);
    },
  },
  {
    // Issue 12 review item 7: the tabs of a browser share one event stream (a leader tab elected with
    // Web Locks relays it over a BroadcastChannel), so a 7th, 8th, 9th visible tab is live at once instead
    // of waiting for the polling fallback; when the leader's tab closes another takes over.
    name: 'robustness: nine tabs share one event stream, all live within 2 s; another leads when the leader closes',
    timeoutMs: 90000,
    async run(t) {
      const { context, page } = await t.context('admin');
      const { hook } = t.ui;
      const streams = []; // the page of each event stream opened
      context.on('request', (request) => {
        if (request.url().includes('/api/v1/mayaflow/events')) streams.push(request.frame().page());
      });
      await t.ui.signIn(page, t.fixture.admin, '#/dags/ui_quick/grid');
      const pages = [page];
      while (pages.length < 9) {
        const tab = await context.newPage();
        pages.push(tab);
        await tab.goto('/#/dags/ui_quick/grid');
        await t.ui.settled(tab);
      }
      for (const tab of pages) await tab.locator(hook('grid-cell')).first().waitFor();
      if (streams.length !== 1) throw new Error(`${streams.length} event streams for 9 tabs, not 1`);
      const report = [];
      // A new run shows in every tab's grid without a reload, within `ms` of the API creating it.
      const allSee = async (tabs, label, ms) => {
        for (const tab of tabs) await t.ui.markNoReload(tab);
        const run = await t.daemon.apiOk('POST', '/api/v1/dags/ui_quick/dagRuns', { dag_run_id: `${label}_${Date.now()}` });
        const created = Date.now();
        const seen = await Promise.all(tabs.map((tab, i) => tab.locator(`${hook('grid-run')}[data-run="${run.dag_run_id}"]`)
          .waitFor({ state: 'attached', timeout: ms }).then(() => Date.now() - created, () => `tab ${i + 1}: not in ${ms} ms`)));
        const late = seen.filter((x) => typeof x === 'string');
        if (late.length) throw new Error(`${label}: the new run did not show in every tab: ${late.join(', ')}`);
        for (const tab of tabs) await t.ui.assertNoReload(tab);
        report.push(`${label}: all ${tabs.length} tabs in ${Math.max(...seen)} ms`);
      };
      await allSee(pages, 'nine_tabs', 2000);
      // The leader's tab closes: a tab still open takes the lock and opens the stream (from the last event).
      const leader = streams[0];
      await leader.close();
      const rest = pages.filter((tab) => tab !== leader);
      await allSee(rest, 'new_leader', 5000);
      if (streams.length !== 2 || !rest.includes(streams[1])) throw new Error(`after the leader closed: ${streams.length} streams opened in all`);
      console.log(`       ${report.join('; ')}`);
    },
  },
  {
    // [4] The stream refused (503, as beyond 64 streams): the pages poll, at most one request a second,
    // and still see a change.
    name: 'robustness: polling without the stream stays at or under one request per second',
    timeoutMs: 60000,
    async run(t) {
      const { context, page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      guard.expect(503, '/api/v1/mayaflow/events');
      await context.route('**/api/v1/mayaflow/events*', (route) => route.fulfill({ status: 503, contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'too many event streams (test)' }) }));
      let counting = false;
      let requests = [];
      page.on('request', (request) => {
        if (counting && !request.url().includes('/api/v1/mayaflow/events')) requests.push(new URL(request.url()).pathname);
      });
      await t.ui.signIn(page, t.fixture.admin, '#/dags');
      const report = [];
      for (const [route, seconds] of [['#/dags', 8], ['#/dags/ui_quick/grid', 8]]) {
        await t.ui.open(page, route);
        await page.waitForTimeout(1000);
        requests = [];
        counting = true;
        await page.waitForTimeout(seconds * 1000);
        counting = false;
        report.push(`${route}: ${requests.length} in ${seconds} s`);
        if (requests.length > seconds) throw new Error(`${route} polled ${requests.length} requests in ${seconds} s: ${requests.join(', ')}`);
        if (requests.length === 0) throw new Error(`${route} did not poll at all without the stream`);
      }
      // Polling still shows changes: a new run appears in the grid.
      await t.ui.markNoReload(page);
      const run = await t.daemon.apiOk('POST', '/api/v1/dags/ui_quick/dagRuns', { dag_run_id: `polled_${Date.now()}` });
      await waitFor(async () => (await page.locator(`${hook('grid-run')}[data-run="${run.dag_run_id}"]`).count()) === 1,
        { timeoutMs: 10000, what: 'the polling grid showing the new run' });
      await t.ui.assertNoReload(page);
      console.log(`       ${report.join('; ')}`);
    },
  },
  {
    // [3] [21] Ids of 200+ characters: no page wider than the screen, the DAG list's other columns on
    // screen, the grid cell of the long task clickable; user text isolated for bidi.
    name: 'robustness: ids of 200+ characters fit the screen and the grid cell opens the task',
    timeoutMs: 60000,
    async run(t) {
      const { page } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      const run = await t.daemon.apiOk('POST', `/api/v1/dags/${LONG_DAG}/dagRuns`, { dag_run_id: 'long_ids_run' });
      await t.ui.signIn(page, t.fixture.admin, '#/dags');
      const routes = {
        list: '#/dags',
        grid: `#/dags/${LONG_DAG}/grid`,
        graph: `#/dags/${LONG_DAG}/graph`,
        task: `#/dags/${LONG_DAG}/runs/${run.dag_run_id}/tasks/${LONG_TASK}`,
      };
      const problems = [];
      for (const size of [DESKTOP, PHONE]) {
        await page.setViewportSize(size);
        for (const [name, route] of Object.entries(routes)) {
          await t.ui.open(page, route);
          if (name === 'list') await page.locator(`${hook('dag-row')}[data-dag-id="${LONG_DAG}"]`).waitFor();
          if (name === 'grid') await page.locator(hook('grid-cell')).first().waitFor();
          const wide = await overflow(page);
          if (wide.page) problems.push(`${name} at ${size.width} px is ${wide.page} px wider than the window`);
          if (size === DESKTOP && wide.dagTable) problems.push(`the DAG list at ${size.width} px scrolls ${wide.dagTable} px sideways`);
        }
        // The long task's cell: a click opens its task instance (the sticky task name does not cover it).
        await t.ui.open(page, routes.grid);
        await page.locator(`${hook('grid-cell')}[data-task="${LONG_TASK}"]`).first().click({ timeout: 5000 });
        await page.waitForFunction((task) => decodeURIComponent(location.hash).includes(`/tasks/${task}`), LONG_TASK, { timeout: 5000 });
      }
      if (problems.length) throw new Error(problems.join('; '));
      // A right-to-left override in the description stays inside it.
      await page.setViewportSize(DESKTOP);
      await t.ui.open(page, '#/dags');
      await page.locator(`${hook('dag-row')}[data-dag-id="${LONG_DAG}"]`).waitFor();
      const bidi = await page.evaluate((dag) => {
        const row = document.querySelector(`[data-test="dag-row"][data-dag-id="${dag}"]`);
        const link = row.querySelector('[data-test="dag-link"]');
        const texts = [...row.querySelectorAll('td:first-child *')].filter((e) => e.textContent.includes('\u202e'));
        return [link, ...texts].map((e) => getComputedStyle(e).unicodeBidi);
      }, LONG_DAG);
      if (bidi.some((value) => value !== 'isolate')) throw new Error(`user text not isolated for bidi: ${bidi}`);
      await waitFor(async () => (await t.daemon.apiOk('GET', `/api/v1/dags/${LONG_DAG}/dagRuns/long_ids_run`)).state === 'success',
        { timeoutMs: 20000, what: 'the long-id run finishing' });
    },
  },
  {
    // [5] [18] [10] [11] [14] [25] Cost, the backfill dry run, a Viewer on the admin pages, the phone menu,
    // #/login while signed in.
    name: 'robustness: cost on a phone, a backfill of future dates, no button a role cannot use, the phone menu',
    timeoutMs: 60000,
    async run(t) {
      const { hook, waitFor } = t.ui;
      const { page } = await t.context('admin');
      await t.ui.signIn(page, t.fixture.admin, '#/cost');
      // The costliest tries: bytes billed and cost right after the task, on screen at 1280 px.
      await page.locator(hook('cost-task-row')).first().waitFor();
      const columns = await page.evaluate(() => {
        const wrap = document.querySelector('.table-wrap[data-test="cost-task-table"]');
        const heads = [...wrap.querySelectorAll('th')];
        const right = wrap.getBoundingClientRect().right;
        return { titles: heads.map((th) => th.textContent), offscreen: heads.filter((th) => th.getBoundingClientRect().right > right + 1).map((th) => th.textContent) };
      });
      if (columns.titles.slice(0, 4).join(',') !== 'DAG,Task,Bytes billed,Estimated') throw new Error(`cost columns: ${columns.titles}`);
      if (columns.offscreen.length) throw new Error(`cost columns off screen at 1280 px: ${columns.offscreen}`);
      // On a phone the chart opens at the newest day, with labels of 10 px or more.
      await page.setViewportSize(PHONE);
      await page.reload();
      await page.locator(hook('cost-chart')).waitFor();
      const chart = await page.evaluate(() => {
        const scroller = document.querySelector('[data-test="cost-chart-scroll"]');
        const label = document.querySelector('[data-test="cost-chart"] text');
        return { atEnd: scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth - 2, labelPx: label.getBoundingClientRect().height };
      });
      if (!chart.atEnd) throw new Error('the cost chart does not open at the newest day on a phone');
      if (chart.labelPx < 10) throw new Error(`the cost chart's labels are ${chart.labelPx} px high on a phone`);

      // The phone menu closes on a route change that is not a click in it: Back, or a link in the page.
      await t.ui.open(page, '#/dags');
      const nav = page.locator('#nav');
      await page.locator('#nav-toggle').click();
      await waitFor(async () => (await nav.getAttribute('class')).includes('open'), { timeoutMs: 2000, what: 'the menu open' });
      await page.locator(`${hook('dag-row')}[data-dag-id="ui_quick"] ${hook('dag-link')}`).first().click();
      await waitFor(async () => !(await nav.getAttribute('class')).includes('open'), { timeoutMs: 3000, what: 'the menu closed after a link in the page' });
      await page.locator('#nav-toggle').click();
      await page.goBack();
      await waitFor(async () => !(await nav.getAttribute('class')).includes('open') && page.url().includes('#/dags'),
        { timeoutMs: 3000, what: 'the menu closed after Back' });
      // #/login while signed in goes on to the DAG list.
      await t.ui.open(page, '#/login');
      await waitFor(async () => new URL(page.url()).hash === '#/dags', { timeoutMs: 5000, what: '#/login going on to #/dags when signed in' });
      await page.setViewportSize(DESKTOP);

      // A backfill of dates whose intervals have not ended says so, with the last date that can run.
      const year = new Date().getUTCFullYear() + 1;
      await t.ui.open(page, `#/backfills/new?dag_id=ui_daily&from=${year}-01-01&to=${year}-01-10`);
      await page.locator(hook('backfill-dry-run')).click();
      await page.locator(hook('backfill-not-ended')).waitFor({ timeout: 10000 });
      if (!(await page.locator(hook('backfill-start')).isDisabled())) throw new Error('a backfill with no run can be started');
      // Thousands of runs: a warning, and Start asks again.
      await t.ui.open(page, '#/backfills/new?dag_id=ui_daily&from=2020-01-01&to=2025-12-31');
      await page.locator(hook('backfill-dry-run')).click();
      await page.locator(hook('backfill-many')).waitFor({ timeout: 15000 });
      const before = (await t.daemon.apiOk('GET', '/api/v1/backfills?dag_id=ui_daily')).total_entries;
      await page.locator(hook('backfill-start')).click();
      await page.locator(hook('confirm-dialog')).waitFor();
      await page.locator(hook('confirm-cancel')).click();
      await page.waitForTimeout(300);
      if ((await t.daemon.apiOk('GET', '/api/v1/backfills?dag_id=ui_daily')).total_entries !== before) throw new Error('the backfill started without the second yes');

      // A Viewer is offered no button the API would refuse, on every admin page.
      const viewer = await t.context('viewer');
      for (const [route, api] of [['#/variables', '/api/v1/variables'], ['#/users', '/api/v1/users'], ['#/connections', '/api/v1/connections']]) {
        viewer.guard.expect(403, api, 'GET');
      }
      await t.ui.signIn(viewer.page, t.fixture.viewer, '#/pools');
      for (const [route, add] of [['#/pools', 'pool'], ['#/variables', 'variable'], ['#/users', 'user'], ['#/connections', 'connection']]) {
        await t.ui.open(viewer.page, route);
        for (const name of [`${add}-add`, `${add}-edit`, `${add}-delete`]) {
          if (await viewer.page.locator(hook(name)).count()) throw new Error(`the Viewer is offered ${name} on ${route}`);
        }
      }
    },
  },
  {
    // [23] [26] The stand-ins line: one line on a phone (a tap shows the endpoints), read again when the
    // event stream comes back after a drop (a restarted daemon's stand-ins have new ports).
    name: 'robustness: the stand-ins line is one line on a phone and follows a reconnection',
    timeoutMs: 30000,
    async run(t) {
      const { context, page } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      let port = 40001;
      await context.route('**/api/v1/mayaflow/standins', (route) => route.fulfill({ status: 200, contentType: 'application/json',
        body: JSON.stringify({ standins: ['BigQuery', 'Cloud Storage', 'Firebase Realtime Database', 'Slack'].map((service, i) => ({
          service, stand_in: true, endpoint: `http://127.0.0.1:${port + i}`, variable: `${service.toUpperCase().replace(/\W+/g, '_')}_HOST` })) }) }));
      // The first event stream ends at once (as when the daemon stops); the browser reconnects 2 s later.
      let streams = 0;
      await context.route('**/api/v1/mayaflow/events*', (route) => (streams++ === 0
        ? route.fulfill({ status: 200, contentType: 'text/event-stream', body: 'retry: 2000\n: the daemon went away\n\n' })
        : route.continue()));
      await page.setViewportSize(PHONE);
      await t.ui.signIn(page, t.fixture.admin, '#/pools');
      const line = page.locator(hook('standins'));
      await waitFor(async () => (await line.innerText()).includes('Slack'), { timeoutMs: 5000, what: 'the stand-ins line' });
      const summary = page.locator(hook('standins-summary'));
      const lineHeight = await summary.evaluate((e) => parseFloat(getComputedStyle(e).lineHeight) || 20);
      const height = (await summary.boundingBox()).height;
      if (height > lineHeight * 1.5) throw new Error(`the stand-ins line is ${height} px high on a phone (a line is ${lineHeight} px)`);
      if (await page.locator('.standins-endpoints').isVisible()) throw new Error('the endpoints show on a phone before a tap');
      port = 41001; // the restarted daemon's stand-ins
      await waitFor(async () => streams >= 2, { timeoutMs: 8000, what: 'the event stream reconnecting' });
      await summary.click();
      await waitFor(async () => (await page.locator('.standins-endpoints').innerText()).includes('127.0.0.1:41001'),
        { timeoutMs: 8000, what: 'the stand-ins line showing the new endpoints after the reconnection' });
    },
  },
];
