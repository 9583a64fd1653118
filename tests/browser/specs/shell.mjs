// Signing in: the signed-out shell goes to the login page; a wrong password shows the API's detail; the
// right one opens the DAG list with every fixture DAG. A reload while signed in asks for the page's
// first answers beside the session check, and takes each of them once.
export default [
  {
    name: 'login: wrong password shows the detail, the right one opens the DAG list',
    timeoutMs: 40000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      // Signed out, the shell asks who is signed in and is told 401; the wrong password is a 401 too.
      guard.expect(401, '/api/v1/mayaflow/session');
      const response = await page.goto('/');
      if (response.status() !== 200) throw new Error(`/ answered ${response.status()}`);
      await page.waitForFunction(() => location.hash.startsWith('#/login'), null, { timeout: 10000 });
      await page.locator(t.ui.hook('login-username')).waitFor();
      await t.shoot(page, guard, '01-login');
      await page.locator(t.ui.hook('login-username')).fill('admin');
      await page.locator(t.ui.hook('login-password')).fill('not-the-password');
      await page.locator(t.ui.hook('login-submit')).click();
      const error = page.locator(t.ui.hook('error-box'));
      await error.waitFor({ timeout: 10000 });
      const text = await error.innerText();
      if (!/401/.test(text) || text.trim().length < 12) throw new Error(`the failed sign-in shows '${text}', not the API's status and detail`);
      await t.shoot(page, guard, '01-login-failed');
      await t.ui.signInWithForm(page, t.fixture.admin);
      await page.waitForFunction(() => location.hash.startsWith('#/dags'), null, { timeout: 15000 });
      const rows = page.locator(t.ui.hook('dag-row'));
      await t.ui.waitFor(async () => (await rows.count()) >= 4, { timeoutMs: 15000, what: 'four DAG rows' });
      const text2 = await page.locator('#main').innerText();
      for (const dag of ['ui_quick', 'ui_flaky', 'ui_slow_log', 'ui_daily']) {
        if (!text2.includes(dag)) throw new Error(`the DAG list does not show ${dag}`);
      }
      await t.shoot(page, guard, '02-dags');
    },
  },
  {
    name: 'a reload signed in asks for the page\'s first answers beside the session, each once',
    timeoutMs: 40000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      await t.ui.signIn(page, t.fixture.admin, '#/dags');
      const run = encodeURIComponent(t.fixture.quickRun);
      const pages = [
        ['#/dags', ['/api/v1/dags', '/api/v1/importErrors', '/api/v1/mayaflow/dagSummaries', '/api/v1/mayaflow/dagTags']],
        ['#/dags/ui_quick/grid', ['/api/v1/dags/ui_quick/details', '/api/v1/mayaflow/dags/ui_quick/graph',
          '/api/v1/mayaflow/dags/ui_quick/gridData']],
        [`#/dags/ui_quick/runs/${run}/tasks/say_hello`, [`/api/v1/dags/ui_quick/dagRuns/${run}/taskInstances/say_hello`,
          '/api/v1/dags/ui_quick/tasks/say_hello', `/api/v1/dags/ui_quick/dagRuns/${run}/taskInstances/say_hello/tries`,
          `/api/v1/mayaflow/dags/ui_quick/dagRuns/${run}/taskInstances/say_hello/rendered`]],
      ];
      for (const [route, first] of pages) {
        await t.ui.open(page, route);
        const events = [];
        const onRequest = (request) => events.push(['asked', new URL(request.url()).pathname]);
        const onResponse = (response) => events.push(['answered', new URL(response.url()).pathname]);
        page.on('request', onRequest);
        page.on('response', onResponse);
        await page.reload();
        await t.ui.settled(page);
        await page.waitForTimeout(500);
        page.off('request', onRequest);
        page.off('response', onResponse);
        const sessionAnswered = events.findIndex(([kind, path]) => kind === 'answered' && path === '/api/v1/mayaflow/session');
        if (sessionAnswered < 0) throw new Error(`${route}: no session check after the reload`);
        for (const path of first) {
          const asked = events.flatMap(([kind, p], at) => (kind === 'asked' && p === path ? [at] : []));
          if (asked.length !== 1) throw new Error(`${route}: ${path} was asked ${asked.length} times after a reload, not once`);
          if (asked[0] > sessionAnswered) throw new Error(`${route}: ${path} was asked after the session answered, not beside it`);
        }
        // The grid's runs and task instances come in its one gridData answer.
        const listed = events.filter(([kind, p]) => kind === 'asked' && p.endsWith('/taskInstances/list'));
        if (route.endsWith('/grid') && listed.length) throw new Error(`${route}: the grid also asked taskInstances/list`);
      }
      await guard.settle();
    },
  },
];
