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
      guard.expect(404, '/api/v1/dags/no_such_dag/details', 'GET'); // the form reads the DAG's start and end first
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
  {
    // Issue 12 review: the dates are the user's days (said in the form, sent with the zone's offset), the
    // list shows them in the user's zone with UTC on hover, and dates before the DAG's start_date say so.
    name: 'backfill: dates in the user\'s zone (Asia/Tokyo), and the DAG\'s start_date in the dry run',
    timeoutMs: 60000,
    async run(t) {
      const { context, page, guard } = await t.context('admin');
      const { hook, waitFor } = t.ui;
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Tokyo' });
      const sent = [];
      page.on('request', (request) => {
        if (request.url().endsWith('/api/v1/backfills/dry_run') || request.url().endsWith('/api/v1/backfills')) {
          if (request.method() === 'POST') sent.push(JSON.parse(request.postData()));
        }
      });
      await t.ui.signIn(page, t.fixture.admin, '#/backfills/new?dag_id=ui_daily&from=2020-03-01&to=2020-03-03');
      const zone = await page.locator(hook('backfill-zone')).innerText();
      if (!zone.includes('Asia/Tokyo')) throw new Error(`the form does not name the zone: ${zone}`);
      const utc = [await page.locator(hook('backfill-from-utc')).innerText(), await page.locator(hook('backfill-to-utc')).innerText()];
      if (utc[0] !== 'from 2020-02-29 15:00:00 UTC' || !utc[1].startsWith('to 2020-03-03 14:59:59')) throw new Error(`the form's UTC says ${utc}`);

      // The days as typed, with Tokyo's offset: 3 runs (the DAG's days are UTC days, at 09:00 in Tokyo).
      await page.locator(hook('backfill-dry-run')).click();
      const planned = page.locator(hook('backfill-plan-run'));
      await waitFor(async () => (await planned.count()) === 3, { what: 'the dry run listing 3 runs' });
      const body = sent.at(-1);
      if (body.from_date !== '2020-03-01T00:00:00.000+09:00' || body.to_date !== '2020-03-03T23:59:59.999+09:00') {
        throw new Error(`the dry run sent ${body.from_date} → ${body.to_date}`);
      }
      const first = planned.first().locator('time');
      if ((await first.getAttribute('title')) !== '2020-03-01 00:00:00 UTC' || !(await first.innerText()).includes('09:00')) {
        throw new Error(`the first run shows ${await first.innerText()} (${await first.getAttribute('title')})`);
      }

      // Partly before the DAG's start_date (2020-01-01): it says so, and the range begins there.
      await page.locator(hook('backfill-from')).fill('2019-12-28');
      await page.locator(hook('backfill-to')).fill('2020-01-02');
      await page.locator(hook('backfill-dry-run')).click();
      await waitFor(async () => (await planned.count()) === 2, { what: 'the dry run listing 2 runs from the start date' });
      const partly = await page.locator(hook('backfill-before-start')).innerText();
      if (!partly.includes('starts on')) throw new Error(`the dry run says ${partly}`);
      if (Date.parse(sent.at(-1).from_date) !== Date.parse('2020-01-01T00:00:00Z')) throw new Error(`sent from ${sent.at(-1).from_date}`);
      await t.shoot(page, guard, '15-backfill-before-start');

      // Wholly before it: no runs, and why; nothing asked of the API, Start stays off.
      const asked = sent.length;
      await page.locator(hook('backfill-from')).fill('2019-01-01');
      await page.locator(hook('backfill-to')).fill('2019-01-31');
      await page.locator(hook('backfill-dry-run')).click();
      const none = page.locator(hook('backfill-before-start'));
      await waitFor(async () => (await none.innerText()).startsWith('No runs: ui_daily starts on'), { what: 'no runs: the DAG starts on' });
      if (sent.length !== asked) throw new Error('a range before the start date was sent to the API');
      if (!(await page.locator(hook('backfill-start')).isDisabled())) throw new Error('a range before the start date can be started');

      // Started, the list shows the dates in Tokyo time (the days typed), UTC on hover; then cancelled.
      await page.locator(hook('backfill-from')).fill('2020-03-01');
      await page.locator(hook('backfill-to')).fill('2020-03-03');
      await page.locator(hook('backfill-dry-run')).click();
      await waitFor(async () => !(await page.locator(hook('backfill-start')).isDisabled()), { what: 'Start enabled' });
      await page.locator(hook('backfill-start')).click();
      await page.waitForFunction(() => /^#\/backfills\?highlight=\d+/.test(location.hash), null, { timeout: 15000 });
      const id = new URL(page.url()).hash.match(/highlight=(\d+)/)[1];
      const row = page.locator(`${hook('backfill-row')}[data-backfill-id="${id}"]`);
      await row.waitFor();
      const dates = row.locator(`${hook('backfill-dates')} time`);
      const shown = [await dates.nth(0).innerText(), await dates.nth(1).innerText()];
      const titles = [await dates.nth(0).getAttribute('title'), await dates.nth(1).getAttribute('title')];
      if (!shown[0].includes('00:00') || !shown[1].includes('23:59') || titles[0] !== '2020-02-29 15:00:00 UTC'
        || !titles[1].startsWith('2020-03-03 14:59:59')) {
        throw new Error(`the list shows ${shown.join(' → ')} (${titles.join(' → ')})`);
      }
      await t.daemon.apiOk('PUT', `/api/v1/backfills/${id}/cancel`);
      await waitFor(async () => (await row.getAttribute('data-state')) === 'completed', { timeoutMs: 15000, what: 'the row completed' });
      const completed = (await t.daemon.apiOk('GET', `/api/v1/backfills/${id}`)).completed_at;
      const cell = row.locator('td time').last();
      if ((await cell.getAttribute('datetime')) !== new Date(completed).toISOString()) throw new Error('the list does not show when it completed');
    },
  },
];
