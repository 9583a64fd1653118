// Every page at a phone's width (390 px): the page itself never scrolls sideways — wide tables,
// charts and logs scroll inside their own box — with the fixture's data and a long id on screen.
const PHONE = { width: 390, height: 844 };

// How many pixels wider than the window the page is, and the widest element that sticks out of it.
function sideways(page) {
  return page.evaluate(() => {
    const over = document.scrollingElement.scrollWidth - window.innerWidth;
    if (over <= 0) return null;
    let widest = null;
    for (const el of document.body.querySelectorAll('*')) {
      const right = el.getBoundingClientRect().right;
      if (right > window.innerWidth + 1 && (!widest || right > widest.right)) {
        widest = { right: Math.round(right), what: `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string'
          ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}${el.dataset.test ? `[data-test=${el.dataset.test}]` : ''}` };
      }
    }
    return `${over} px wider than the window${widest ? ` (${widest.what} ends at ${widest.right} px)` : ''}`;
  });
}

export default [
  {
    name: 'phone: no page scrolls sideways at 390 px',
    timeoutMs: 90000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      await page.setViewportSize(PHONE);
      await t.ui.signIn(page, t.fixture.admin, '#/dags');
      const quick = `#/dags/ui_quick`;
      const task = `${quick}/runs/${encodeURIComponent(t.fixture.quickRun)}/tasks/say_hello`;
      // Each page, and what it draws after its first answer (waited for before measuring).
      const routes = [['#/dags', 'run-mark'], [`${quick}/grid`, 'grid-cell'],
        [`${quick}/grid?run=${encodeURIComponent(t.fixture.quickRun)}`, 'run-panel-id'], [`${quick}/graph`, 'graph-node'],
        [`${quick}/gantt`, 'gantt-row'], [`${quick}/runs`, 'run-row'], [`${quick}/source`, 'dag-source'],
        ['#/dags/ui_daily/schedule', 'schedule-row'], [task, 'try-row'], ['#/trigger/ui_quick', 'trigger-form'],
        ['#/backfills', null], ['#/backfills/new?dag_id=ui_daily', 'backfill-form'], ['#/connections', null],
        ['#/variables', null], ['#/pools', null], ['#/users', null], ['#/cost', 'cost-chart']];
      const problems = [];
      for (const [route, drawn] of routes) {
        await t.ui.open(page, route);
        if (drawn) await page.locator(t.ui.hook(drawn)).first().waitFor({ state: 'attached' });
        // Sampled for a second: parts that fill in later (counts, next runs) count too.
        let wide = null;
        for (let i = 0; i < 10 && !wide; i++) {
          wide = await sideways(page);
          if (!wide) await page.waitForTimeout(100);
        }
        if (wide) problems.push(`${route}: ${wide}`);
        if (route === '#/users') await t.shoot(page, guard, '70-users-cards');
      }
      if (problems.length) throw new Error(problems.join('; '));
    },
  },
];
