// The browser tests: the real daemon on a temporary home with the fixture DAGs of tests/browser/dags,
// driven in headless chromium. Usage: node run.mjs [--grep TEXT] [--keep]
//   MAYAFLOW_BIN          the daemon (default build-sanitize/mayaflow)
//   MAYAFLOW_TEST_OUTPUT  where screenshots and the report go (default build-sanitize/tests/browser-output)
//   MAYAFLOW_UI_DIR       passed to the daemon: serve the UI from that folder instead of the embedded copy
// Exit status 0 when every spec passed. Each spec and each wait is bounded in time.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Daemon, REPO, MAYAFLOW, waitFor } from './lib/daemon.mjs';
import { launchBrowser, newGuardedContext, Guard, shoot } from './lib/browser.mjs';
import * as ui from './lib/ui.mjs';
import specs from './specs/index.mjs';

const args = process.argv.slice(2);
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : null;
const keep = args.includes('--keep');
const out = path.resolve(process.env.MAYAFLOW_TEST_OUTPUT || path.join(REPO, 'build-sanitize', 'tests', 'browser-output'));
const RUN_BUDGET_MS = 480000; // the whole run, so a hang cannot outlast CTest's TIMEOUT silently

function log(text) {
  process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${text}\n`);
}

function secret(label) {
  return `${label}-${crypto.randomBytes(9).toString('hex')}`;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// What the specs share: users, connections, variables and a pool made through the API, and the secrets
// among them that no page may show.
async function makeFixture(daemon) {
  const fixture = {
    admin: { username: 'admin', password: daemon.adminPassword() },
    viewer: { username: 'vera', password: secret('vera-pw') },
    op: { username: 'otto', password: secret('otto-pw') },
    warehousePassword: secret('warehouse-pw'),
    warehouseToken: secret('warehouse-extra-token'),
    webhookPassword: secret('webhook-pw'),
    slackToken: secret('xoxb'),
    configApiKey: secret('config-api-key'),
  };
  for (const [user, role] of [[fixture.viewer, 'Viewer'], [fixture.op, 'Op']]) {
    await daemon.apiOk('POST', '/api/v1/users', {
      username: user.username, password: user.password, email: `${user.username}@example.com`,
      first_name: user.username, last_name: 'Tester', roles: [{ name: role }],
    });
  }
  const token = await daemon.apiOk('POST', '/api/v1/mayaflow/tokens', { name: 'ci', username: 'otto' });
  fixture.apiToken = token.token;
  await daemon.apiOk('POST', '/api/v1/connections', {
    connection_id: 'warehouse', conn_type: 'postgres', host: 'db.internal', login: 'etl', schema: 'sales',
    port: 5432, password: fixture.warehousePassword,
    extra: JSON.stringify({ sslmode: 'require', api_token: fixture.warehouseToken }),
  });
  await daemon.apiOk('POST', '/api/v1/connections', {
    connection_id: 'slack_alerts', conn_type: 'slackwebhook', host: 'hooks.slack.example',
    password: fixture.webhookPassword, description: 'alerts channel',
  });
  await daemon.apiOk('POST', '/api/v1/connections', {
    connection_id: 'local_files', conn_type: 'fs', extra: JSON.stringify({ path: daemon.home }),
  });
  await daemon.apiOk('POST', '/api/v1/variables', { key: 'report_bucket', value: 'gs://reports-example', description: 'where reports go' });
  await daemon.apiOk('POST', '/api/v1/variables', { key: 'slack_token', value: fixture.slackToken, description: 'alerts' });
  await daemon.apiOk('POST', '/api/v1/variables', {
    key: 'etl_config', value: JSON.stringify({ region: 'asia-northeast1', api_key: fixture.configApiKey }),
  });
  await daemon.apiOk('POST', '/api/v1/pools', { name: 'bigquery', slots: 4, description: 'BigQuery jobs' });

  // A run of ui_quick that succeeded and one of ui_flaky that failed (its gate file is absent), as if
  // overnight; then BigQuery cost rows on them over the last week (no real BigQuery job runs here).
  const quick = await daemon.apiOk('POST', '/api/v1/dags/ui_quick/dagRuns', { dag_run_id: 'overnight_quick' });
  const flaky = await daemon.apiOk('POST', '/api/v1/dags/ui_flaky/dagRuns', { dag_run_id: 'overnight_flaky' });
  await waitFor(async () => (await daemon.api('GET', '/api/v1/dags/ui_quick/dagRuns/overnight_quick')).body.state === 'success',
    { timeoutMs: 30000, what: 'the overnight ui_quick run succeeding' });
  await waitFor(async () => (await daemon.api('GET', '/api/v1/dags/ui_flaky/dagRuns/overnight_flaky')).body.state === 'failed',
    { timeoutMs: 30000, what: 'the overnight ui_flaky run failing' });
  fixture.quickRun = quick.dag_run_id;
  fixture.flakyRun = flaky.dag_run_id;
  const now = Date.now();
  const day = 86400000;
  const rows = [];
  const GiB = 1024 ** 3;
  for (let d = 0; d < 7; d++) {
    const at = (now - d * day - 3600000) * 1000; // microseconds, an hour before now, d days ago
    rows.push(`((SELECT id FROM dag_run WHERE dag_id='ui_quick' AND run_id='overnight_quick'), 'say_hello', ${d + 1}, 'job_quick_${d}', ${(40 + 25 * d) * GiB}, ${(40 + 25 * d) * GiB}, ${120000 + d * 1000}, 0, 1000, ${at})`);
    rows.push(`((SELECT id FROM dag_run WHERE dag_id='ui_flaky' AND run_id='overnight_flaky'), 'prepare', ${d + 1}, 'job_flaky_${d}', ${(300 - 30 * d) * GiB}, ${(300 - 30 * d) * GiB}, ${500000 - d * 9000}, ${d % 3 === 0 ? 1 : 0}, NULL, ${at})`);
  }
  daemon.sql(`INSERT INTO task_cost (run_pk, task_id, try_number, job_id, bytes_processed, bytes_billed, slot_ms, cache_hit, rows_written, recorded_at) VALUES ${rows.join(',\n')};\n`);
  fixture.secrets = [fixture.admin.password, fixture.viewer.password, fixture.op.password, fixture.warehousePassword,
    fixture.warehouseToken, fixture.webhookPassword, fixture.slackToken, fixture.configApiKey, fixture.apiToken];
  return fixture;
}

async function main() {
  const started = Date.now();
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  log(`daemon ${MAYAFLOW}; output ${out}${process.env.MAYAFLOW_UI_DIR ? `; UI from ${process.env.MAYAFLOW_UI_DIR}` : ''}`);
  const daemon = new Daemon(path.join(REPO, 'tests', 'browser', 'dags'));
  let browser;
  const results = [];
  let setupError = null;
  try {
    await withTimeout(daemon.start(), 60000, 'starting the daemon');
    log(`daemon on ${daemon.base}, home ${daemon.home}`);
    const fixture = await withTimeout(makeFixture(daemon), 60000, 'making the fixture');
    browser = await launchBrowser();
    log(`chromium ${browser.version()}; setup took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const selected = specs.filter((spec) => !grep || spec.name.includes(grep));
    for (const spec of selected) {
      const left = RUN_BUDGET_MS - (Date.now() - started);
      if (left <= 0) {
        results.push({ name: spec.name, ok: false, error: 'not run: the run is over its time budget', ms: 0 });
        continue;
      }
      const specStart = Date.now();
      const contexts = [];
      const guards = [];
      const t = {
        daemon, browser, fixture, out, ui,
        // A browser context (a fresh cookie jar) for one user, every page of it guarded.
        async context(label, { allowExport = false, acceptDownloads = false, colorScheme = 'light' } = {}) {
          const guard = new Guard({ secrets: fixture.secrets, allowExport, label: `${spec.name}/${label}` });
          const context = await newGuardedContext(browser, { baseURL: daemon.base, guard, acceptDownloads, colorScheme });
          contexts.push(context);
          guards.push(guard);
          const page = await context.newPage();
          return { context, page, guard };
        },
        async shoot(page, guard, name) {
          await shoot(page, guard, out, name);
        },
      };
      let error = null;
      try {
        await withTimeout(spec.run(t), Math.min(spec.timeoutMs || 60000, left), spec.name);
      } catch (e) {
        error = e;
      }
      // Whatever each page shows at the end must not be blank or hold a secret either.
      for (const [i, context] of contexts.entries()) {
        for (const page of context.pages()) {
          if (!error && page.url().startsWith(daemon.base)) {
            await withTimeout(guards[i].checkPage(page, `${page.url().replace(daemon.base, '')} at the end`), 5000, 'checking the page')
              .catch((e) => guards[i].problem(e.message));
          }
        }
      }
      for (const guard of guards) guard.closing = true;
      for (const context of contexts) {
        if (error) {
          for (const [i, page] of context.pages().entries()) {
            await page.screenshot({ path: path.join(out, `FAILED-${spec.name.replace(/\W+/g, '_')}-${i}.png`), fullPage: true, timeout: 5000 }).catch(() => {});
          }
        }
        await context.close().catch(() => {});
      }
      const problems = [];
      for (const guard of guards) {
        await withTimeout(guard.settle(), 10000, 'reading answers').catch((e) => problems.push(e.message));
        problems.push(...guard.problems);
      }
      const messages = [];
      if (error) messages.push(error.stack || String(error));
      messages.push(...problems);
      const ms = Date.now() - specStart;
      results.push({ name: spec.name, ok: messages.length === 0, error: messages.join('\n'), ms });
      log(`${messages.length === 0 ? 'ok    ' : 'FAILED'} ${spec.name} (${(ms / 1000).toFixed(1)} s)`);
      for (const message of messages) log(`       ${message.replace(/\n/g, '\n       ')}`);
    }
  } catch (e) {
    setupError = e;
    log(`setup FAILED: ${e.stack || e}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    const problems = await daemon.stop();
    for (const problem of problems) log(`daemon: ${problem}`);
    if (problems.length) results.push({ name: 'daemon log', ok: false, error: problems.join('\n'), ms: 0 });
    const failed = results.filter((r) => !r.ok).length + (setupError ? 1 : 0);
    if (failed || setupError) {
      fs.writeFileSync(path.join(out, 'daemon.log'), daemon.readLog());
    }
    daemon.cleanup(keep);
    fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify({ results, setupError: setupError ? String(setupError) : null }, null, 2));
    log(`${results.length - results.filter((r) => !r.ok).length} passed, ${failed} failed, in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${out}`);
    process.exitCode = failed || results.length === 0 ? 1 : 0;
  }
}

await main();
