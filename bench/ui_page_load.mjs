// How long the web UI's pages take to load from the daemon with many DAGs (issue 12: under 200 ms
// with 1,000), in Debian's headless chromium. Prints figures; asserts nothing about time.
//
//   node bench/ui_page_load.mjs [--dags 1000] [--repeats 9] [--mayaflow build/mayaflow] [--trace]
//
// It writes --dags DAG files (a daily schedule, three empty tasks, two tags each, one run made at
// load), starts `mayaflow standalone` on them (tests/browser/lib/daemon.mjs), waits until every DAG
// is stored and has its run, signs in and then, per page, loads it and prints the time from the
// navigation's start until the page is drawn with its data (the first frame after the DOM holds it,
// in the page's own clock, so the harness's round trips are not counted):
//   - DAG list, first page (100 DAGs, their last runs, counts and next runs filled in)
//   - DAG list, searched ("_01": the 100 DAGs 0100-0199)
//   - one DAG's grid
//   - a task instance's panel
// "new tab" is the page opened in a new tab of a new browser context (nothing cached; chromium
// starts a renderer process for it); "reload" the median and worst of --repeats reloads of that tab,
// as a user with the UI open sees it. Beside them, for scale:
//   - "static": the same page, as drawn, saved as static HTML without its script and served by Node
//     (no API, no JavaScript): what this browser on this machine takes to draw that much DOM;
//   - the API's two answers the DAG list waits for, timed from Node: /dags?limit=100 and
//     /mayaflow/dagSummaries for the same page.
// Use a release build (build/mayaflow): the sanitizer build is several times slower.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { Daemon, MAYAFLOW, waitFor } from '../tests/browser/lib/daemon.mjs';
import { launchBrowser } from '../tests/browser/lib/browser.mjs';
import { hook } from '../tests/browser/lib/ui.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const DAGS = Number(option('--dags', '1000'));
const REPEATS = Number(option('--repeats', '9'));
// The binary from --mayaflow (else MAYAFLOW_BIN, else build-sanitize/mayaflow). It is handed to the
// Daemon: the module's MAYAFLOW is read at import, before this line runs.
const BINARY = option('--mayaflow', null) ? path.resolve(option('--mayaflow')) : MAYAFLOW;

function writeDags(folder, count) {
  fs.mkdirSync(folder, { recursive: true });
  const yesterday = new Date(Date.now() - 2 * 86400000).toISOString().slice(0, 10);
  for (let i = 0; i < count; ++i) {
    const id = `bench_dag_${String(i).padStart(4, '0')}`;
    fs.writeFileSync(path.join(folder, `${id}.yaml`), `dag_id: ${id}
description: DAG ${i} of the page-load benchmark
schedule: "@daily"
start_date: ${yesterday}
catchup: false
tags: [team_${i % 7}, layer_${i % 3}]
tasks:
  - task_id: extract
    operator: empty
  - task_id: transform
    operator: empty
    depends_on: [extract]
  - task_id: load
    operator: empty
    depends_on: [transform]
`);
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(0).padStart(5)} ms`;

// The page records when it is drawn: the first frame after the DOM first holds the data (a
// MutationObserver checks `drawn` on every change), as performance.now() from navigation start.
const recordDrawn = (drawnSource) => `
  (() => {
    const drawn = ${drawnSource};
    const check = () => {
      if (window.__drawnAt !== undefined || !document.body || !drawn()) return;
      window.__drawnAt = -1;
      requestAnimationFrame(() => { window.__drawnAt = performance.now(); });
    };
    new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true });
    addEventListener('DOMContentLoaded', check);
  })();`;

// Polled with plain evaluations: Playwright's waitForFunction would inject its helper script into the
// page while it loads, and that costs the page's main thread tens of milliseconds here.
async function untilDrawn(page) {
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    if (await page.evaluate('window.__drawnAt > 0')) return page.evaluate('window.__drawnAt');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${page.url()} was not drawn in 30 s`);
}

// The first load in a new tab of `context`, then REPEATS reloads of that tab.
async function timePage(context, url) {
  const page = await context.newPage();
  await page.goto(url);
  const newTab = await untilDrawn(page);
  const reloads = [];
  for (let i = 0; i < REPEATS; ++i) {
    await page.reload();
    reloads.push(await untilDrawn(page));
  }
  const html = (await page.evaluate(() => document.documentElement.outerHTML))
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
  return { page, newTab, reloads, html };
}

// The drawn page as static HTML (its stylesheet too), served by Node: no API and no script.
async function timeStatic(context, html, css) {
  const server = http.createServer((request, response) => {
    const isCss = request.url.startsWith('/ui/css/');
    response.writeHead(200, { 'Content-Type': isCss ? 'text/css' : 'text/html; charset=utf-8' });
    response.end(isCss ? css : html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await untilDrawn(page);
    const times = [];
    for (let i = 0; i < REPEATS; ++i) {
      await page.reload();
      times.push(await untilDrawn(page));
    }
    await page.close();
    return times;
  } finally {
    server.close();
  }
}

// --trace: one more reload, then what it fetched and when (ms from navigation start).
const TRACE = process.argv.includes('--trace');
async function tracePage(page) {
  await page.reload();
  const drawnAt = await untilDrawn(page);
  const entries = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => ({
    name: e.name.replace(location.origin, ''), start: e.startTime, end: e.responseEnd, wait: e.responseStart - e.requestStart })));
  const nav = await page.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return { html: n.responseEnd, dcl: n.domContentLoadedEventEnd }; });
  console.log(`      html ${nav.html.toFixed(0)} ms, DOMContentLoaded ${nav.dcl.toFixed(0)} ms, drawn ${drawnAt.toFixed(0)} ms`);
  for (const e of entries) {
    console.log(`      ${e.start.toFixed(0).padStart(5)} → ${e.end.toFixed(0).padStart(5)} ms (server ${e.wait.toFixed(0).padStart(4)} ms)  ${e.name.slice(0, 110)}`);
  }
}

async function main() {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mayaflow-ui-bench-'));
  writeDags(path.join(folder, 'dags'), DAGS);
  const daemon = new Daemon(path.join(folder, 'dags'), BINARY);
  const loadStarted = Date.now();
  await daemon.start(300000);
  let browser;
  try {
    await waitFor(async () => (await daemon.api('GET', '/api/v1/dags?limit=1')).body.total_entries === DAGS,
      { timeoutMs: 300000, intervalMs: 500, what: `${DAGS} DAGs stored` });
    await waitFor(async () => (await daemon.api('GET', '/api/v1/dags/~/dagRuns?limit=1&state=success'))
      .body.total_entries >= DAGS, { timeoutMs: 300000, intervalMs: 500, what: 'a finished run of every DAG' });
    const loaded = (Date.now() - loadStarted) / 1000;

    // The API timed with a personal token, as the page's session cookie is checked: Basic auth would
    // add a password hash (tens of ms) to every request.
    const created = spawnSync(BINARY, ['users', 'create-token', '-u', 'admin'],
      { env: daemon.env, encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`mayaflow users create-token failed: ${created.stderr}`);
    const bearer = `Bearer ${created.stdout.trim().split('\n').pop()}`;
    const api = async (target) => {
      const times = [];
      for (let i = 0; i < REPEATS; ++i) {
        const started = process.hrtime.bigint();
        const answer = await daemon.api('GET', target, undefined, { auth: bearer });
        if (answer.status !== 200) throw new Error(`${target} answered ${answer.status}`);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return median(times);
    };
    const firstPage = (await daemon.api('GET', '/api/v1/dags?limit=100&order_by=dag_id')).body.dags.map((d) => d.dag_id);
    const apiDags = await api('/api/v1/dags?limit=100&offset=0&order_by=dag_id');
    const apiSummaries = await api('/api/v1/mayaflow/dagSummaries?limit=100&offset=0&order_by=dag_id&runs=10');
    const runId = (await daemon.api('GET', `/api/v1/dags/${firstPage[0]}/dagRuns?limit=1`)).body.dag_runs[0].dag_run_id;

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const signer = await context.newPage();
    await signer.goto(`${daemon.base}/api/v1/health`);
    const status = await signer.evaluate(async (password) => {
      const answer = await fetch('/api/v1/mayaflow/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }) });
      await answer.text();
      return answer.status;
    }, daemon.adminPassword());
    if (status !== 200 && status !== 201) throw new Error(`signing in answered ${status}`);
    await signer.close();

    const rowsWithRuns = (count) => new Function(`
      const rows = document.querySelectorAll('${hook('dag-row')}');
      if (rows.length !== ${count}) return false;
      return [...rows].every((row) => row.querySelector('${hook('run-mark')}'));`);
    const pages = [
      ['DAG list (100 DAGs with runs)', '#/dags', rowsWithRuns(Math.min(100, DAGS))],
      ['DAG list searched ("_01": 100 DAGs)', '#/dags?search=_01', rowsWithRuns(100)],
      ['one DAG\'s grid', `#/dags/${firstPage[0]}/grid`, new Function(`return document.querySelectorAll('${hook('grid-cell')}').length >= 3`)],
      ['task instance panel', `#/dags/${firstPage[0]}/runs/${encodeURIComponent(runId)}/tasks/load`,
        new Function(`return !!document.querySelector('${hook('try-row')}') && !!document.querySelector('${hook('rendered-fields')} h2')`)],
    ];
    if (DAGS < 1000) pages.splice(1, 1);
    console.log(`mayaflow web UI page loads: ${DAGS} DAGs (stored and run once in ${loaded.toFixed(1)} s), ` +
      `median of ${REPEATS}, chromium ${browser.version()}, ${BINARY}`);
    console.log(`  API  /dags?limit=100                        ${ms(apiDags)}`);
    console.log(`  API  /mayaflow/dagSummaries (100 DAGs)      ${ms(apiSummaries)}`);
    const css = await (await fetch(`${daemon.base}/ui/css/app.css`)).text();
    for (const [name, route, drawn] of pages) {
      const storage = await context.storageState();
      const fresh = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: storage });
      await fresh.addInitScript({ content: recordDrawn(drawn.toString()) });
      const { page, newTab, reloads, html } = await timePage(fresh, `${daemon.base}/${route}`);
      const statics = await timeStatic(fresh, html, css);
      console.log(`  page ${name.padEnd(38)} new tab ${ms(newTab)}   reload median ${ms(median(reloads))}` +
        ` worst ${ms(Math.max(...reloads))}   static median ${ms(median(statics))}`);
      if (TRACE) await tracePage(page);
      await fresh.close();
    }
  } finally {
    if (browser) await browser.close();
    await daemon.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
