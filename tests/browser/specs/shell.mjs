// The one page is served, without sign-in, and draws something.
export default [
  {
    name: 'shell: / serves the page and it is not blank',
    timeoutMs: 30000,
    async run(t) {
      const { page, guard } = await t.context('anonymous');
      // Signed out, the shell asks who is signed in and is told 401: expected.
      guard.expect(401, '/api/v1/mayaflow/session', 'GET');
      const response = await page.goto('/');
      if (response.status() !== 200) throw new Error(`/ answered ${response.status()}`);
      await page.waitForFunction(() => document.body.innerText.trim().length > 0, null, { timeout: 10000 });
      await t.shoot(page, guard, '00-home-signed-out');
    },
  },
];
