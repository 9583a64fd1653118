// The Monday-morning path on the DAG pages: trigger a run from the form and watch it succeed, watch a
// running task's log arrive line by line, clear a failed task and watch it run again and succeed — each
// without reloading the page. Then a screenshot of every tab of the DAG page.
import fs from 'node:fs';
import path from 'node:path';

export default [
  {
    name: 'trigger: the form starts a run and the page shows it succeed without a reload',
    timeoutMs: 45000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      await t.ui.signIn(page, t.fixture.admin, '#/dags');
      const row = page.locator(`${hook('dag-row')}[data-dag-id="ui_quick"]`);
      await row.waitFor();
      await t.shoot(page, guard, '02-dags-admin');
      await row.locator(hook('trigger-button')).click();
      await page.waitForFunction(() => location.hash.startsWith('#/trigger/ui_quick'), null, { timeout: 10000 });
      const submit = page.locator(hook('trigger-submit'));
      await submit.waitFor();
      await t.shoot(page, guard, '03-trigger');
      const before = new Set((await t.daemon.apiOk('GET', '/api/v1/dags/ui_quick/dagRuns')).dag_runs.map((r) => r.dag_run_id));
      await submit.click();
      // The form goes to the DAG's grid with the new run highlighted (?run=<its id>).
      await page.waitForFunction(() => location.hash.startsWith('#/dags/ui_quick/grid?'), null, { timeout: 15000 });
      const runId = new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('run');
      if (!runId || before.has(runId)) throw new Error(`the grid does not name the new run: ${page.url()}`);
      await t.ui.settled(page);
      await t.ui.markNoReload(page);
      const created = await t.daemon.apiOk('GET', `/api/v1/dags/ui_quick/dagRuns/${encodeURIComponent(runId)}`);
      if (created.run_type !== 'manual') throw new Error(`the new run is ${created.run_type}`);
      await waitFor(async () => (await t.daemon.apiOk('GET', `/api/v1/dags/ui_quick/dagRuns/${encodeURIComponent(runId)}`)).state === 'success',
        { timeoutMs: 20000, what: 'the triggered run succeeding' });
      const cells = page.locator(`${hook('grid-cell')}[data-run="${runId}"][data-state="success"]`);
      await waitFor(async () => (await cells.count()) === 2, { timeoutMs: 2500, what: 'the grid showing the run\'s two tasks succeed within 2 s of it' });
      await t.ui.assertNoReload(page);
      await t.shoot(page, guard, '04-dag-after-trigger');
    },
  },
  {
    name: 'live log: a running task\'s lines arrive on the page',
    timeoutMs: 40000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      const run = await t.daemon.apiOk('POST', '/api/v1/dags/ui_slow_log/dagRuns', { dag_run_id: 'live_log_run' });
      await waitFor(async () => (await t.daemon.apiOk('GET', `/api/v1/dags/ui_slow_log/dagRuns/${run.dag_run_id}/taskInstances/tail_me`)).state === 'running',
        { what: 'tail_me running' });
      await t.ui.signIn(page, t.fixture.admin, `#/dags/ui_slow_log/runs/${run.dag_run_id}/tasks/tail_me`);
      const log = page.locator(hook('log-view'));
      await waitFor(async () => (await log.innerText()).includes('slow line 2'), { timeoutMs: 10000, what: 'the log showing line 2' });
      await t.ui.markNoReload(page);
      const first = await log.innerText();
      const last = Math.max(...[...first.matchAll(/slow line (\d+)/g)].map((m) => Number(m[1])));
      await waitFor(async () => (await log.innerText()).includes(`slow line ${last + 4}`), { timeoutMs: 10000, what: `line ${last + 4} arriving` });
      await t.ui.assertNoReload(page);
      const text = await log.innerText();
      const numbers = [...text.matchAll(/slow line (\d+)/g)].map((m) => Number(m[1]));
      numbers.forEach((n, i) => {
        if (n !== i + 1) throw new Error(`the live log is out of order or has gaps or repeats: ${numbers.join(',')}`);
      });
      await t.shoot(page, guard, '05-live-log');
    },
  },
  {
    name: 'clear: a failed task is cleared from its panel, runs again and succeeds on the page',
    timeoutMs: 45000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      const base = `/api/v1/dags/ui_flaky/dagRuns/${t.fixture.flakyRun}/taskInstances`;
      await t.ui.signIn(page, t.fixture.admin, `#/dags/ui_flaky/runs/${t.fixture.flakyRun}/tasks/gate`);
      const badge = page.locator(`${hook('task-summary')} ${hook('state-badge')}`).first();
      await waitFor(async () => (await badge.getAttribute('data-state')) === 'failed', { what: 'the panel showing gate failed' });
      await t.shoot(page, guard, '06-task-failed');
      fs.writeFileSync(path.join(t.daemon.home, 'flaky_gate'), 'open\n');
      await t.ui.markNoReload(page);
      await page.locator(hook('clear-button')).click();
      const dialog = page.locator(hook('clear-dialog'));
      await dialog.waitFor({ timeout: 5000 });
      if (!(await dialog.locator(hook('clear-downstream')).isChecked())) await dialog.locator(hook('clear-downstream')).check();
      await t.shoot(page, guard, '06-task-clear-dialog');
      await dialog.locator(hook('clear-confirm')).click();
      await waitFor(async () => (await t.daemon.apiOk('GET', `${base}/after_gate`)).state === 'success', { timeoutMs: 25000, what: 'after_gate succeeding after the clear' });
      const gate = await t.daemon.apiOk('GET', `${base}/gate`);
      if (gate.state !== 'success' || gate.try_number < 2) throw new Error(`gate after the clear: ${gate.state}, try ${gate.try_number}`);
      await waitFor(async () => (await badge.getAttribute('data-state')) === 'success', { timeoutMs: 5000, what: 'the panel showing gate succeed' });
      // The tries table keeps the failed try beside the new one, each with its own state and duration.
      await waitFor(async () => {
        const rows = await page.locator(hook('try-row')).evaluateAll((trs) => trs.map((tr) => ({
          n: Number(tr.dataset.try),
          state: tr.querySelector('[data-test="state-badge"]')?.dataset.state,
          duration: tr.querySelector('[data-test="try-duration"]')?.textContent.trim(),
        })));
        return rows.length === gate.try_number && rows[0].state === 'failed' && rows.at(-1).state === 'success' &&
          rows.every((r) => r.duration && r.duration !== '—');
      }, { timeoutMs: 5000, what: 'the tries table listing the failed try and the successful one with durations' });
      await t.ui.assertNoReload(page);
      await t.shoot(page, guard, '07-task-cleared');
    },
  },
  {
    name: 'the DAG page\'s tabs',
    timeoutMs: 40000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      await t.ui.signIn(page, t.fixture.admin, '#/dags/ui_flaky');
      for (const tab of ['grid', 'graph', 'gantt', 'runs', 'source', 'schedule']) {
        await t.ui.open(page, `#/dags/ui_flaky/${tab}?run=${t.fixture.flakyRun}`);
        await page.waitForTimeout(200);
        await t.shoot(page, guard, `08-dag-${tab}`);
      }
      // A task whose command renders a connection password and a secret variable: its panel (rendered
      // template, log) must show them masked — the guard fails the spec if any answer or the HTML holds one.
      await t.ui.open(page, `#/dags/ui_flaky/runs/${t.fixture.flakyRun}/tasks/prepare`);
      const log = page.locator(t.ui.hook('log-view'));
      await t.ui.waitFor(async () => (await log.innerText()).includes('preparing with'), { what: 'prepare\'s log' });
      if (!(await log.innerText()).includes('***')) throw new Error('the log of prepare does not show the secrets masked');
      await t.shoot(page, guard, '08-task-secrets-masked');
      await t.ui.open(page, `#/dags/ui_daily/schedule`);
      await page.waitForTimeout(200);
      await t.shoot(page, guard, '09-dag-daily-schedule');
    },
  },
  {
    name: 'mark: the dialog lists what it marks, downstream included; the log search marks its matches',
    timeoutMs: 40000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      const run = await t.daemon.apiOk('POST', '/api/v1/dags/ui_quick/dagRuns', { dag_run_id: 'mark_me' });
      const base = `/api/v1/dags/ui_quick/dagRuns/${run.dag_run_id}/taskInstances`;
      await waitFor(async () => (await t.daemon.apiOk('GET', `/api/v1/dags/ui_quick/dagRuns/${run.dag_run_id}`)).state === 'success',
        { timeoutMs: 20000, what: 'the run to mark succeeding' });
      await t.ui.signIn(page, t.fixture.admin, `#/dags/ui_quick/runs/${run.dag_run_id}/tasks/say_hello`);
      if (await page.locator(hook('mark-success-button')).count()) throw new Error('a successful task offers "mark success"');
      const log = page.locator(hook('log-view'));
      await waitFor(async () => (await log.innerText()).includes('from the browser test'), { what: 'say_hello\'s log' });
      // As many marks as the log holds the words, whatever their case (the command line and its output).
      const expected = (await log.innerText()).toLowerCase().split('browser test').length - 1;
      if (expected < 1) throw new Error('say_hello\'s log does not hold "browser test"');
      await page.locator(hook('log-search')).fill('BROWSER test');
      await waitFor(async () => (await page.locator(`${hook('log-view')} mark`).count()) === expected,
        { what: `${expected} matches marked` });
      const counted = await page.locator(hook('log-matches')).innerText();
      if (!counted.startsWith(`${expected} match`)) throw new Error(`the match count says "${counted}", not ${expected}`);

      await page.locator(hook('mark-failed-button')).click();
      const dialog = page.locator(hook('mark-dialog'));
      await dialog.waitFor();
      await waitFor(async () => (await dialog.locator(`${hook('mark-preview')} li`).count()) === 1, { what: 'the preview listing say_hello alone' });
      await dialog.locator(hook('mark-downstream')).check();
      await waitFor(async () => (await dialog.locator(`${hook('mark-preview')} li`).count()) === 2, { what: 'the preview listing say_done too' });
      await t.shoot(page, guard, '10-mark-dialog');
      await dialog.locator(hook('mark-confirm')).click();
      await waitFor(async () => (await t.daemon.apiOk('GET', `${base}/say_done`)).state === 'failed', { what: 'say_done marked failed' });
      if ((await t.daemon.apiOk('GET', `${base}/say_hello`)).state !== 'failed') throw new Error('say_hello is not failed');
      const badge = page.locator(`${hook('task-summary')} ${hook('state-badge')}`).first();
      await waitFor(async () => (await badge.getAttribute('data-state')) === 'failed', { what: 'the panel showing failed' });
    },
  },
  {
    name: 'broken DAG files: the DAG list\'s banner names the file, line and error, and follows it live',
    timeoutMs: 60000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      const broken = path.join(t.daemon.dags, 'ui_broken.yaml');
      const listed = async () => (await t.daemon.apiOk('GET', '/api/v1/importErrors?limit=100')).import_errors
        .some((e) => e.filename.endsWith('ui_broken.yaml'));
      // The page is open before the file breaks: the banner comes and goes without a reload (the stream
      // has no event for it: the page reads the broken files every 10 s while it holds the stream).
      await t.ui.signIn(page, t.fixture.admin, '#/dags');
      await page.locator(hook('dag-row')).first().waitFor();
      await t.ui.markNoReload(page);
      const entry = page.locator(hook('import-error')).filter({ hasText: 'ui_broken.yaml' });
      fs.writeFileSync(broken, 'dag_id: ui_broken\ntasks:\n  - task_id: a\n    operator: bash\n    bash_command: [unclosed\n');
      try {
        await waitFor(listed, { timeoutMs: 15000, what: 'the import error of ui_broken.yaml in the API' });
        const seen = Date.now();
        await waitFor(async () => (await entry.count()) === 1, { timeoutMs: 15000, what: 'the banner naming ui_broken.yaml, live' });
        console.log(`       the banner showed ${Date.now() - seen} ms after the API listed the error`);
        const text = await entry.innerText();
        if (!/(line \d+|:\d+:\d+)/.test(text)) throw new Error(`the banner does not give the line: ${text}`);
        await t.shoot(page, guard, '11-import-error-banner');
      } finally {
        fs.rmSync(broken, { force: true });
      }
      await waitFor(async () => !(await listed()), { timeoutMs: 15000, what: 'the import error gone once the file is' });
      await waitFor(async () => (await entry.count()) === 0, { timeoutMs: 15000, what: 'the banner no longer naming the removed file, live' });
      await t.ui.assertNoReload(page);
    },
  },
];
