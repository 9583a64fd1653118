// A backfill of last week from the form: the dry run lists the runs it would create (and creates
// nothing), then it starts, its progress moves without a reload, it is paused and cancelled.
const DAY = 86400000;

function day(offsetDays) {
  return new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);
}

export default [
  {
    name: 'backfill: dry run, start, progress, pause, cancel',
    timeoutMs: 60000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      await t.ui.signIn(page, t.fixture.admin, '#/backfills/new?dag_id=ui_daily');
      const form = page.locator(hook('backfill-form'));
      await form.waitFor();
      if ((await page.locator(hook('backfill-from')).inputValue()) !== day(-7)) throw new Error('the form does not start at a week ago');
      if ((await page.locator(hook('backfill-to')).inputValue()) !== day(-1)) throw new Error('the form does not end yesterday');
      // An error of the API shows as its detail: a DAG that does not exist.
      guard.expect(404, '/api/v1/backfills/dry_run', 'POST');
      await page.locator(hook('backfill-dag')).fill('no_such_dag');
      await page.locator(hook('backfill-dry-run')).click();
      const error = form.locator(hook('error-box'));
      await error.waitFor();
      const said = await error.innerText();
      if (!said.includes('404') || !said.includes('no_such_dag')) throw new Error(`the dry run of an unknown DAG shows '${said}'`);
      await page.locator(hook('backfill-dag')).fill('ui_daily');
      await page.locator(hook('backfill-max-active')).fill('1');
      if (!(await page.locator(hook('backfill-start')).isDisabled())) throw new Error('Start is enabled before a dry run');
      await t.shoot(page, guard, '10-backfill-form');

      await page.locator(hook('backfill-dry-run')).click();
      const planned = page.locator(hook('backfill-plan-run'));
      await waitFor(async () => (await planned.count()) === 7, { timeoutMs: 15000, what: 'the dry run listing 7 runs' });
      const before = await t.daemon.apiOk('GET', '/api/v1/backfills?dag_id=ui_daily');
      if (before.total_entries !== 0) throw new Error('the dry run created a backfill');
      const runsBefore = await t.daemon.apiOk('GET', '/api/v1/dags/ui_daily/dagRuns');
      if (runsBefore.total_entries !== 0) throw new Error('the dry run created runs');
      await t.shoot(page, guard, '11-backfill-dry-run');

      // Changing the form makes the dry run stale: Start is disabled until it runs again.
      await page.locator(hook('backfill-max-active')).fill('2');
      if (!(await page.locator(hook('backfill-start')).isDisabled())) throw new Error('Start stays enabled after the form changed');
      await page.locator(hook('backfill-max-active')).fill('1');
      // By keyboard this time: Tab from the last field reaches Dry run, Enter runs it, Tab reaches Start.
      for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement && document.activeElement.dataset.test);
      if (focused !== 'backfill-dry-run') throw new Error(`three Tabs from 'runs at once' reach ${focused}, not Dry run`);
      await page.keyboard.press('Enter');
      await waitFor(async () => !(await page.locator(hook('backfill-start')).isDisabled()), { what: 'Start enabled after the dry run' });
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement.dataset.test)) !== 'backfill-start') throw new Error('Tab from Dry run does not reach Start');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => /^#\/backfills\?highlight=\d+/.test(location.hash), null, { timeout: 15000 });
      const id = new URL(page.url()).hash.match(/highlight=(\d+)/)[1];
      const row = page.locator(`${hook('backfill-row')}[data-backfill-id="${id}"]`);
      await row.waitFor();
      await t.ui.markNoReload(page);
      const progress = row.locator(hook('backfill-progress'));
      if ((await progress.getAttribute('data-total')) !== '7') throw new Error('the backfill row does not count 7 runs');
      // One run at a time, 3 s each: the first finishes within a few seconds, shown without a reload.
      await waitFor(async () => Number(await progress.getAttribute('data-done')) >= 1, { timeoutMs: 25000, what: 'a backfill run finishing on the page' });
      await t.ui.assertNoReload(page);
      await t.shoot(page, guard, '12-backfills-running');

      await row.locator(hook('backfill-pause')).click();
      await waitFor(async () => (await row.getAttribute('data-state')) === 'paused', { what: 'the row showing paused' });
      const paused = await t.daemon.apiOk('GET', `/api/v1/backfills/${id}`);
      if (!paused.is_paused) throw new Error('the API does not say the backfill is paused');
      await t.shoot(page, guard, '13-backfills-paused');

      await row.locator(hook('backfill-cancel')).click();
      await page.locator(hook('confirm-ok')).click();
      await waitFor(async () => (await row.getAttribute('data-state')) === 'completed', { timeoutMs: 15000, what: 'the row showing completed after cancel' });
      const cancelled = await t.daemon.apiOk('GET', `/api/v1/backfills/${id}`);
      if (!cancelled.completed_at) throw new Error('the API does not say the backfill completed');
      if (cancelled.progress.runs_by_state.queued) throw new Error(`runs still queued after cancel: ${JSON.stringify(cancelled.progress)}`);
      if (await row.locator(hook('backfill-pause')).count()) throw new Error('a completed backfill still offers pause');
      await t.ui.assertNoReload(page);
      await t.shoot(page, guard, '14-backfills-cancelled');
    },
  },
];
