// Signing in: the signed-out shell goes to the login page; a wrong password shows the API's detail; the
// right one opens the DAG list with every fixture DAG.
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
];
