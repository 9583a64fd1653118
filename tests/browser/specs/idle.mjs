// Issue 12 §2: an open page makes no more than one request per second when nothing changes (the event
// stream it holds open does not count: it is one long request).
const WINDOW_MS = 3000;

export default [
  {
    name: 'idle pages make at most one request per second',
    timeoutMs: 40000,
    async run(t) {
      const { page, guard } = await t.context('admin');
      await t.ui.signIn(page, t.fixture.admin, '#/dags');
      let counting = false;
      let requests = [];
      page.on('request', (request) => {
        if (counting && !request.url().includes('/api/v1/mayaflow/events')) requests.push(`${request.method()} ${new URL(request.url()).pathname}`);
      });
      const routes = ['#/dags', '#/dags/ui_quick/grid', `#/dags/ui_quick/runs/${t.fixture.quickRun}/tasks/say_hello`,
        '#/backfills', '#/pools'];
      const report = [];
      for (const route of routes) {
        await t.ui.open(page, route);
        await page.waitForTimeout(1000); // let the page finish loading what it shows
        requests = [];
        counting = true;
        await page.waitForTimeout(WINDOW_MS);
        counting = false;
        report.push(`${route}: ${requests.length}`);
        if (requests.length > WINDOW_MS / 1000) {
          throw new Error(`${route} made ${requests.length} requests in ${WINDOW_MS / 1000} s with nothing changing: ${requests.join(', ')}`);
        }
      }
      console.log(`       requests in ${WINDOW_MS / 1000} s idle: ${report.join('; ')}`);
      await guard.settle();
    },
  },
];
