// A Viewer sees no trigger, clear or admin controls, and the API refuses those actions when the page's
// own context (its session cookie and CSRF token) sends them.
export default [
  {
    name: 'viewer: no trigger or clear button, and the API answers 403 from the page',
    timeoutMs: 40000,
    async run(t) {
      const { page, guard } = await t.context('viewer');
      const { hook, waitFor } = t.ui;
      await t.ui.signIn(page, t.fixture.viewer, '#/dags');
      await waitFor(async () => (await page.locator(hook('dag-row')).count()) >= 4, { what: 'the DAG list' });
      const nav = await page.locator('#nav').innerText();
      for (const hidden of ['Connections', 'Variables', 'Users']) {
        if (nav.includes(hidden)) throw new Error(`a Viewer's menu offers ${hidden}`);
      }
      await t.shoot(page, guard, '30-viewer-dags');
      if (await page.locator(hook('trigger-button')).count()) throw new Error('the DAG list offers a Viewer to trigger');
      await t.ui.open(page, '#/dags/ui_flaky');
      await page.waitForTimeout(300);
      if (await page.locator(hook('trigger-button')).count()) throw new Error('the DAG page offers a Viewer to trigger');
      await t.ui.open(page, `#/dags/ui_flaky/runs/${t.fixture.flakyRun}/tasks/gate`);
      await page.locator(hook('state-badge')).first().waitFor();
      for (const button of ['clear-button', 'mark-success-button', 'mark-failed-button']) {
        if (await page.locator(hook(button)).count()) throw new Error(`the task panel offers a Viewer ${button}`);
      }
      await t.shoot(page, guard, '31-viewer-task');
      await t.ui.open(page, '#/backfills');
      await page.locator(hook('backfill-list')).waitFor();
      for (const button of ['backfill-new', 'backfill-pause', 'backfill-cancel', 'backfill-unpause']) {
        if (await page.locator(hook(button)).count()) throw new Error(`the backfill list offers a Viewer ${button}`);
      }

      const refused = [
        ['POST', '/api/v1/dags/ui_quick/dagRuns', {}],
        ['POST', '/api/v1/dags/ui_flaky/clearTaskInstances', { dry_run: false, task_ids: ['gate'], dag_run_id: t.fixture.flakyRun }],
        ['POST', '/api/v1/dags/ui_flaky/updateTaskInstancesState', { dry_run: false, task_id: 'gate', dag_run_id: t.fixture.flakyRun, new_state: 'success' }],
        ['POST', '/api/v1/backfills', { dag_id: 'ui_daily', from_date: '2026-01-01T00:00:00Z', to_date: '2026-01-02T00:00:00Z' }],
        ['GET', '/api/v1/mayaflow/connections/export?file_format=json'],
        ['GET', '/api/v1/variables'],
      ];
      const runsBefore = (await t.daemon.apiOk('GET', '/api/v1/dags/ui_quick/dagRuns')).total_entries;
      for (const [method, path, body] of refused) {
        guard.expect(403, path.split('?')[0], method);
        const answer = await t.ui.fetchInPage(page, method, path, body);
        if (answer.status !== 403) throw new Error(`${method} ${path} from a Viewer's page answered ${answer.status}: ${answer.body}`);
        if (!/Viewer/.test(answer.body)) throw new Error(`the 403 does not say the role: ${answer.body}`);
      }
      const runsAfter = (await t.daemon.apiOk('GET', '/api/v1/dags/ui_quick/dagRuns')).total_entries;
      if (runsAfter !== runsBefore) throw new Error(`the Viewer's trigger made a run (${runsBefore} -> ${runsAfter})`);
      const gate = await t.daemon.apiOk('GET', `/api/v1/dags/ui_flaky/dagRuns/${t.fixture.flakyRun}/taskInstances/gate`);
      if (gate.state !== 'failed') throw new Error(`the Viewer's clear changed gate to ${gate.state}`);
    },
  },
];
