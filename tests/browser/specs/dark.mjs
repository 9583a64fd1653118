// Dark mode follows the system: a few pages with prefers-color-scheme: dark, for the eye (screenshots),
// and the page's background must actually be dark.
export default [
  {
    name: 'dark mode',
    timeoutMs: 30000,
    async run(t) {
      const { page, guard } = await t.context('admin', { colorScheme: 'dark' });
      await t.ui.signIn(page, t.fixture.admin, '#/dags');
      for (const [route, name] of [['#/dags', 'dags'], ['#/dags/ui_flaky/grid', 'grid'], ['#/dags/ui_flaky/graph', 'graph'],
        ['#/backfills', 'backfills'], ['#/cost', 'cost']]) {
        await t.ui.open(page, route);
        await page.waitForTimeout(300);
        await t.shoot(page, guard, `60-dark-${name}`);
      }
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r, g, b] = background.match(/\d+/g).map(Number);
      if (r + g + b > 3 * 80) throw new Error(`the page is not dark with prefers-color-scheme: dark (body background ${background})`);
    },
  },
];
