// The admin pages: variables (secret values masked as the API masks them; add one from the form), pools,
// users (create one from the form), and the cost view's chart and costliest tries.
export default [
  {
    name: 'variables: values shown, secrets masked, add from the form',
    timeoutMs: 30000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      await t.ui.signIn(page, t.fixture.admin, '#/variables');
      const value = (key) => page.locator(`${hook('variable-list')} ${hook('variable-value')}[data-key="${key}"]`);
      await waitFor(async () => (await value('report_bucket').innerText()).includes('gs://reports-example'), { what: 'report_bucket\'s value' });
      await waitFor(async () => (await value('slack_token').locator(hook('variable-masked')).count()) === 1, { what: 'slack_token masked' });
      await waitFor(async () => (await value('etl_config').innerText()).includes('asia-northeast1'), { what: 'etl_config\'s visible member' });
      if (!(await value('etl_config').innerText()).includes('***')) throw new Error('etl_config\'s api_key is not masked');
      await t.shoot(page, guard, '40-variables');
      await page.locator(hook('variable-add')).click();
      const dialog = page.locator(hook('variable-dialog'));
      await dialog.locator(hook('variable-key')).fill('added_in_browser');
      await dialog.locator(hook('variable-value-input')).fill('42');
      await dialog.locator(hook('variable-save')).click();
      await dialog.waitFor({ state: 'detached' });
      await waitFor(async () => (await value('added_in_browser').count()) === 1, { what: 'the new variable in the list' });
      const stored = await t.daemon.apiOk('GET', '/api/v1/variables/added_in_browser');
      if (stored.value !== '42') throw new Error(`the variable stored ${JSON.stringify(stored)}`);
    },
  },
  {
    name: 'pools and users',
    timeoutMs: 30000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      await t.ui.signIn(page, t.fixture.admin, '#/pools');
      const bigquery = page.locator(`${hook('pool-row')}[data-pool="bigquery"]`);
      await bigquery.waitFor();
      if (!(await bigquery.innerText()).includes('BigQuery jobs')) throw new Error('the bigquery pool row lacks its description');
      if ((await bigquery.locator(hook('pool-open')).innerText()).trim() !== '4') throw new Error('the bigquery pool does not show 4 open slots');
      await t.shoot(page, guard, '41-pools');

      await t.ui.open(page, '#/users');
      await waitFor(async () => (await page.locator(hook('user-row')).count()) === 3, { what: 'three user rows' });
      const vera = page.locator(`${hook('user-row')}[data-username="vera"]`);
      if (!(await vera.locator(hook('user-roles')).innerText()).includes('Viewer')) throw new Error('vera is not shown as a Viewer');
      await t.shoot(page, guard, '42-users');
      await page.locator(hook('user-add')).click();
      const dialog = page.locator(hook('user-dialog'));
      await dialog.locator(hook('user-username')).fill('uma');
      await dialog.locator(hook('user-first-name')).fill('Uma');
      await dialog.locator(hook('user-last-name')).fill('User');
      await dialog.locator(hook('user-email')).fill('uma@example.com');
      await dialog.locator(hook('user-new-password')).fill(t.fixture.viewer.password + '-uma');
      await dialog.locator(hook('user-role-User')).check();
      await t.shoot(page, guard, '43-user-create');
      await dialog.locator(hook('user-save')).click();
      await dialog.waitFor({ state: 'detached' });
      await waitFor(async () => (await page.locator(`${hook('user-row')}[data-username="uma"]`).count()) === 1, { what: 'uma in the list' });
      const uma = await t.daemon.apiOk('GET', '/api/v1/users/uma');
      const roles = uma.roles.map((r) => r.name).sort().join(',');
      if (roles !== 'User,Viewer') throw new Error(`uma has roles ${roles}`);

      // Deactivated from the list, uma can no longer sign in; activated again, she can.
      const umaAuth = t.daemon.basic('uma', t.fixture.viewer.password + '-uma');
      const umaStatus = async () => (await t.daemon.api('GET', '/api/v1/mayaflow/session', undefined, { auth: umaAuth })).status;
      if ((await umaStatus()) !== 200) throw new Error('uma cannot sign in after being created');
      const umaRow = page.locator(`${hook('user-row')}[data-username="uma"]`);
      await umaRow.locator(hook('user-deactivate')).click();
      await page.locator(hook('confirm-ok')).click();
      await waitFor(async () => (await umaRow.innerText()).includes('inactive'), { what: 'uma shown inactive' });
      if ((await umaStatus()) !== 401) throw new Error('a deactivated user can still sign in');
      await t.shoot(page, guard, '44-user-deactivated');
      await umaRow.locator(hook('user-activate')).click();
      await page.locator(hook('confirm-ok')).click();
      await waitFor(async () => (await umaStatus()) === 200, { what: 'uma signing in again once activated' });
    },
  },
  {
    name: 'cost: bytes billed per DAG per day as a chart, costliest tries of the month',
    timeoutMs: 30000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      await t.ui.signIn(page, t.fixture.admin, '#/cost?days=30');
      const bars = page.locator(`${hook('cost-chart')} ${hook('cost-bar')}`);
      await waitFor(async () => (await bars.count()) === 14, { what: '14 bars (2 DAGs × 7 days)' });
      const api = await t.daemon.apiOk('GET', '/api/v1/mayaflow/costs/dags');
      const onPage = await bars.evaluateAll((nodes) => nodes.map((n) => Number(n.dataset.bytesBilled)).reduce((a, b) => a + b, 0));
      if (onPage !== api.totals.bytes_billed) throw new Error(`the chart sums ${onPage} bytes, the API ${api.totals.bytes_billed}`);
      // The first day's bar of ui_flaky is taller than ui_quick's on the same day (300 GiB against 40).
      const heights = await bars.evaluateAll((nodes) => nodes.map((n) => ({ dag: n.dataset.dagId, day: n.dataset.day, h: Number(n.getAttribute('height')) })));
      const today = new Date(Date.now() - 3600000).toISOString().slice(0, 10);
      const flaky = heights.find((b) => b.dag === 'ui_flaky' && b.day === today);
      const quick = heights.find((b) => b.dag === 'ui_quick' && b.day === today);
      if (!flaky || !quick || !(flaky.h > quick.h * 5)) throw new Error(`bar heights do not follow the bytes: ${JSON.stringify({ flaky, quick })}`);
      const rows = page.locator(hook('cost-task-row'));
      await waitFor(async () => (await rows.count()) > 0, { what: 'the costliest tries' });
      const first = await rows.first().getAttribute('data-dag-id');
      const month = new Date();
      const tasks = await t.daemon.apiOk('GET', `/api/v1/mayaflow/costs/tasks?start_date=${month.toISOString().slice(0, 8)}01&limit=10`);
      if (first !== tasks.task_costs[0].dag_id || (await rows.count()) !== tasks.task_costs.length) {
        throw new Error(`the costliest tries differ from the API's: first ${first}, ${await rows.count()} rows`);
      }
      await t.shoot(page, guard, '50-cost');
    },
  },
];
