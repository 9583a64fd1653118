// Run-level details and actions (run_panel.js): the grid's run header and the run list's "Details" open
// a run's panel (type, data interval, conf, note); an Op edits the note, marks the run failed, clears
// it after a dry run listing what it clears (every task / only the failed ones), watches it run again
// live and deletes it; an API error shows as its detail; a Viewer sees the details and no action.
// Then the grid's and graph's folded groups and state legend, the graph following a new run, and the
// Gantt's bar per try.
import fs from 'node:fs';
import path from 'node:path';

const GROUPS_DAG = `# Written by the run_actions browser spec: two task groups for the folding checks.
description: Task groups (browser test fixture). ${'A long description that goes on and on. '.repeat(12)}
schedule: null
start_date: 2026-01-01
tags: [browser-test]
tasks:
  - task_id: begin
    operator: bash
    bash_command: echo begin
  - group: extract
    depends_on: [begin]
    tasks:
      - task_id: orders
        operator: bash
        bash_command: echo orders
      - task_id: customers
        operator: bash
        bash_command: echo customers
  - task_id: ${'a_task_with_a_really_long_identifier_'.repeat(6).slice(0, 220)}
    operator: bash
    depends_on: [begin]
    bash_command: echo long
  - group: publish_the_homework_submissions_report
    depends_on: [extract]
    tasks:
      - task_id: upload
        operator: bash
        bash_command: echo upload
`;

const LONG_ID = 'a_task_with_a_really_long_identifier_'.repeat(6).slice(0, 220);

const runState = async (t, dag, run) => (await t.daemon.api('GET', `/api/v1/dags/${dag}/dagRuns/${encodeURIComponent(run)}`)).body;

export default [
  {
    name: 'run details: an Op opens a run from the grid, edits its note, marks it failed, clears it and deletes it',
    timeoutMs: 60000,
    async run(t) {
      const { hook, waitFor } = t.ui;
      const runId = 'details_run';
      const runPath = `/api/v1/dags/ui_quick/dagRuns/${runId}`;
      await t.daemon.apiOk('POST', '/api/v1/dags/ui_quick/dagRuns', {
        dag_run_id: runId, conf: { region: 'asia-northeast1', batch: 3 }, note: 'night batch',
      });
      await waitFor(async () => (await runState(t, 'ui_quick', runId)).state === 'success', { timeoutMs: 20000, what: `${runId} succeeding` });

      const { page, guard } = await t.context('op');
      await t.ui.signIn(page, t.fixture.op, '#/dags/ui_quick/grid');
      await page.locator(`${hook('grid-run')}[data-run="${runId}"]`).click();
      const panel = page.locator(`${hook('run-panel')}[data-run="${runId}"]`);
      await panel.waitFor({ timeout: 10000 });
      await waitFor(async () => (await panel.locator(hook('run-panel-state')).getAttribute('data-state')) === 'success',
        { timeoutMs: 5000, what: 'the panel showing the run succeeded' });
      const conf = await panel.locator(hook('run-conf')).innerText();
      if (!conf.includes('asia-northeast1') || !conf.includes('"batch": 3')) throw new Error(`the panel's conf: ${conf}`);
      if ((await panel.locator(hook('run-type')).innerText()).trim() !== 'manual') throw new Error('the run type is not manual');
      if ((await panel.locator(`${hook('run-data-interval')} time`).count()) !== 2) throw new Error('the data interval lacks its two dates');
      if ((await panel.locator(hook('run-note')).innerText()).trim() !== 'night batch') throw new Error('the note is not shown');
      await t.ui.markNoReload(page);
      await t.shoot(page, guard, '20-run-panel');

      // The note: an API error shows as its detail in the dialog; then the note is saved.
      await page.route('**/setNote', (route) => route.fulfill({ status: 409, contentType: 'application/problem+json',
        body: JSON.stringify({ status: 409, title: 'Conflict', detail: 'stand-in refusal: the note was not written' }) }), { times: 1 });
      guard.expect(409, '/setNote', 'PATCH');
      await panel.locator(hook('run-note-edit')).click();
      const noteDialog = page.locator(hook('run-note-dialog'));
      await noteDialog.locator(hook('run-note-input')).fill('checked by ops');
      await noteDialog.locator(hook('run-note-save')).click();
      await waitFor(async () => (await noteDialog.innerText()).includes('stand-in refusal: the note was not written'),
        { timeoutMs: 5000, what: 'the refused note\'s detail in the dialog' });
      await noteDialog.locator(hook('run-note-save')).click();
      await noteDialog.waitFor({ state: 'detached', timeout: 5000 });
      await waitFor(async () => (await panel.locator(hook('run-note')).innerText()).trim() === 'checked by ops',
        { timeoutMs: 5000, what: 'the panel showing the new note' });
      if ((await runState(t, 'ui_quick', runId)).note !== 'checked by ops') throw new Error('the API does not have the new note');

      // Mark failed: the confirm, then the API and the panel say failed (and Mark failed is gone).
      // A success run marked failed: its finished tasks keep their state, so the dialog lists no change.
      await panel.locator(hook('run-mark-failed')).click();
      const markDialog = page.locator(hook('run-mark-dialog'));
      await waitFor(async () => (await markDialog.locator(hook('run-mark-count')).getAttribute('data-count').catch(() => null)) === '0',
        { timeoutMs: 5000, what: 'the mark dialog listing no task change' });
      await markDialog.locator(hook('run-mark-confirm')).click();
      await waitFor(async () => (await runState(t, 'ui_quick', runId)).state === 'failed', { timeoutMs: 15000, what: 'the run marked failed' });
      await waitFor(async () => (await panel.locator(hook('run-panel-state')).getAttribute('data-state')) === 'failed' &&
        (await panel.locator(hook('run-mark-failed')).count()) === 0, { timeoutMs: 5000, what: 'the panel showing the run failed' });

      // Clear: the dry run lists both tasks; "only failed" lists none (both tasks succeeded) and cannot
      // be confirmed; back to every task, confirm, and the run runs again and succeeds on the page.
      await panel.locator(hook('run-clear-button')).click();
      const dialog = page.locator(hook('run-clear-dialog'));
      await dialog.waitFor({ timeout: 5000 });
      const count = dialog.locator(hook('run-clear-count'));
      await waitFor(async () => (await count.count()) === 1 && (await count.getAttribute('data-count')) === '2',
        { timeoutMs: 5000, what: 'the dry run listing the run\'s 2 tasks' });
      const listed = await dialog.locator(hook('run-clear-task')).evaluateAll((li) => li.map((x) => x.dataset.task).sort());
      if (listed.join(',') !== 'say_done,say_hello') throw new Error(`the clear lists ${listed}`);
      await t.shoot(page, guard, '21-run-clear-dialog');
      await dialog.locator(hook('run-clear-only-failed')).check();
      await waitFor(async () => (await count.getAttribute('data-count')) === '0' && await dialog.locator(hook('run-clear-confirm')).isDisabled(),
        { timeoutMs: 5000, what: '"only failed" listing nothing and its confirm disabled' });
      await dialog.locator(hook('run-clear-all')).check();
      await waitFor(async () => (await count.getAttribute('data-count')) === '2', { timeoutMs: 5000, what: 'the list of every task again' });
      if ((await runState(t, 'ui_quick', runId)).state !== 'failed') throw new Error('the dry run changed the run');
      await dialog.locator(hook('run-clear-confirm')).click();
      await dialog.waitFor({ state: 'detached', timeout: 10000 });
      await waitFor(async () => (await runState(t, 'ui_quick', runId)).state === 'success', { timeoutMs: 20000, what: 'the cleared run succeeding' });
      await waitFor(async () => (await panel.locator(hook('run-panel-state')).getAttribute('data-state')) === 'success',
        { timeoutMs: 5000, what: 'the panel following the run to success from the event stream' });
      const tries = await t.daemon.apiOk('GET', `${runPath}/taskInstances/say_hello`);
      if (tries.try_number < 2) throw new Error(`say_hello did not run again (try ${tries.try_number})`);
      await t.ui.assertNoReload(page);

      // Delete: confirm, the run is gone from the API and the page goes back to the grid without it.
      await panel.locator(hook('run-delete')).click();
      await page.locator(hook('confirm-ok')).click();
      await waitFor(async () => (await t.daemon.api('GET', runPath)).status === 404, { timeoutMs: 15000, what: 'the run deleted' });
      await page.waitForFunction(() => location.hash === '#/dags/ui_quick/grid', null, { timeout: 5000 });
      await t.ui.settled(page);
      await waitFor(async () => (await page.locator(`${hook('grid-run')}[data-run="${runId}"]`).count()) === 0 &&
        (await page.locator(hook('grid-run')).count()) > 0, { timeoutMs: 5000, what: 'the grid without the deleted run' });

      // The run list's "Details" opens the same panel.
      await t.ui.open(page, '#/dags/ui_quick/runs');
      await page.locator(`${hook('run-details-link')}[data-run="${t.fixture.quickRun}"]`).click();
      await page.locator(`${hook('run-panel')}[data-run="${t.fixture.quickRun}"] ${hook('run-details')}`).waitFor({ timeout: 5000 });
    },
  },
  {
    name: 'run details: a Viewer sees a run\'s details and no run action',
    timeoutMs: 20000,
    async run(t) {
      const { hook } = t.ui;
      const { page, guard } = await t.context('viewer');
      await t.ui.signIn(page, t.fixture.viewer, `#/dags/ui_flaky/grid?run=${t.fixture.flakyRun}`);
      const panel = page.locator(`${hook('run-panel')}[data-run="${t.fixture.flakyRun}"]`);
      await panel.locator(hook('run-details')).waitFor({ timeout: 10000 });
      for (const name of ['run-actions', 'run-clear-button', 'run-mark-success', 'run-mark-failed', 'run-delete', 'run-note-edit']) {
        if (await panel.locator(hook(name)).count()) throw new Error(`the Viewer sees ${name}`);
      }
      await t.shoot(page, guard, '22-run-panel-viewer');
    },
  },
  {
    name: 'grid and graph: groups start folded, expand and collapse all, a group cell opens it, the state legend',
    timeoutMs: 45000,
    async run(t) {
      const { hook, waitFor } = t.ui;
      fs.writeFileSync(path.join(t.daemon.dags, 'ui_groups.yaml'), GROUPS_DAG);
      await waitFor(async () => (await t.daemon.api('GET', '/api/v1/dags/ui_groups')).status === 200, { timeoutMs: 15000, what: 'ui_groups parsed' });
      await t.daemon.apiOk('PATCH', '/api/v1/dags/ui_groups', { is_paused: false });
      await t.daemon.apiOk('POST', '/api/v1/dags/ui_groups/dagRuns', { dag_run_id: 'groups_run' });
      await waitFor(async () => (await runState(t, 'ui_groups', 'groups_run')).state === 'success', { timeoutMs: 25000, what: 'groups_run succeeding' });

      const { page, guard } = await t.context('admin');
      await t.ui.signIn(page, t.fixture.admin, '#/dags/ui_groups/grid');
      const rowIds = () => page.locator(hook('grid-row')).evaluateAll((trs) => trs.map((tr) => tr.dataset.row));
      await page.locator(hook('grid-row')).first().waitFor();
      let rows = await rowIds();
      if ([...rows].sort().join(',') !== [LONG_ID, 'begin', 'group:extract', 'group:publish_the_homework_submissions_report'].sort().join(',')) {
        throw new Error(`the grid does not start with its groups folded: ${rows}`);
      }
      if ((await page.locator(`${hook('state-legend')} ${hook('legend-item')}`).count()) < 10) throw new Error('no state legend on the grid');
      // A long description shows its start; the rest on "more".
      const description = page.locator(hook('dag-description'));
      if (await description.evaluate((d) => d.tagName !== 'DETAILS' || d.open || d.querySelector('summary').textContent.length > 300)) {
        throw new Error('the long description is not clamped');
      }
      // A group's cell shows the group's state and opens it.
      const cell = page.locator(`${hook('grid-group-cell')}[data-group="group:extract"][data-run="groups_run"]`);
      if ((await cell.getAttribute('data-state')) !== 'success') throw new Error('the group cell does not show success');
      await cell.click();
      await waitFor(async () => (await rowIds()).includes('extract.orders'), { timeoutMs: 3000, what: 'the group cell opening extract' });
      await page.locator(hook('grid-expand-all')).click();
      rows = await rowIds();
      if (rows.length !== 7) throw new Error(`expand all shows ${rows.length} rows: ${rows}`);
      await t.shoot(page, guard, '23-grid-groups-expanded');
      // A 220-character task id: its name is cut (the id in its title) and its cells stay clickable.
      const name = page.locator(`${hook('grid-row')}[data-row="${LONG_ID}"] th`);
      if ((await name.getAttribute('title')) !== LONG_ID) throw new Error('the long task name has no title with its id');
      const nameBox = await name.boundingBox();
      if (!nameBox || nameBox.width > 420) throw new Error(`the long task name is ${nameBox && nameBox.width} px wide`);
      const longCell = page.locator(`${hook('grid-cell')}[data-task="${LONG_ID}"][data-run="groups_run"]`);
      await longCell.click({ timeout: 3000 });
      await page.waitForFunction(() => location.hash.includes('/tasks/a_task_with_a_really_long'), null, { timeout: 5000 });
      await t.ui.open(page, '#/dags/ui_groups/grid');
      await page.locator(hook('grid-collapse-all')).waitFor();
      await page.locator(hook('grid-collapse-all')).click();
      rows = await rowIds();
      if (rows.length !== 4) throw new Error(`collapse all shows ${rows.length} rows: ${rows}`);

      // The graph: the same folds; a long group name keeps its count inside the node.
      await t.ui.open(page, '#/dags/ui_groups/graph');
      await page.locator(hook('graph-group')).first().waitFor();
      if ((await page.locator(hook('graph-group')).count()) !== 2) throw new Error('the graph does not start with its groups folded');
      if ((await page.locator(`${hook('state-legend')} ${hook('legend-item')}`).count()) < 10) throw new Error('no state legend on the graph');
      const overflow = await page.locator(`${hook('graph-group')} text.graph-label`).evaluateAll((texts) => texts
        .filter((x) => x.getComputedTextLength() > 180 - 24 || !/\(\d+\)$/.test(x.firstChild.textContent)).map((x) => x.firstChild.textContent));
      if (overflow.length) throw new Error(`graph labels cut or overflowing: ${overflow}`);
      await page.locator(hook('graph-expand-all')).click();
      await waitFor(async () => (await page.locator(hook('graph-node')).count()) === 5, { timeoutMs: 3000, what: 'expand all showing the 5 tasks' });
      await t.shoot(page, guard, '24-graph-groups-expanded');

      // Without ?run= the graph moves to a new run when it starts.
      await page.locator(hook('graph-collapse-all')).click();
      await t.daemon.apiOk('POST', '/api/v1/dags/ui_groups/dagRuns', { dag_run_id: 'groups_run_2' });
      await waitFor(async () => (await page.locator(hook('graph-run')).inputValue()) === 'groups_run_2',
        { timeoutMs: 5000, what: 'the graph following the new run' });
      await waitFor(async () => (await runState(t, 'ui_groups', 'groups_run_2')).state === 'success', { timeoutMs: 25000, what: 'groups_run_2 succeeding' });
    },
  },
  {
    name: 'gantt: a bar per try, the run\'s own span',
    timeoutMs: 20000,
    async run(t) {
      const { hook, waitFor } = t.ui;
      const { page, guard } = await t.context('admin');
      // The runs spec cleared gate of the overnight run: its failed try and its successful one.
      const gate = await t.daemon.apiOk('GET', `/api/v1/dags/ui_flaky/dagRuns/${t.fixture.flakyRun}/taskInstances/gate`);
      await t.ui.signIn(page, t.fixture.admin, `#/dags/ui_flaky/gantt?run=${t.fixture.flakyRun}`);
      const row = page.locator(`${hook('gantt-row')}[data-task="gate"]`);
      await row.waitFor({ timeout: 10000 });
      await waitFor(async () => (await row.locator(hook('gantt-bar')).count()) === gate.try_number,
        { timeoutMs: 5000, what: `gate's ${gate.try_number} bars` });
      const states = await row.locator(hook('gantt-bar')).evaluateAll((bars) => bars.map((b) => b.dataset.state));
      if (gate.try_number > 1 && (states[0] !== 'failed' || states.at(-1) !== 'success')) throw new Error(`gate's bars: ${states}`);
      if ((await page.locator(`${hook('gantt-span')} time`).count()) < 1) throw new Error('the Gantt\'s span does not name the run\'s start');
      // The run was cleared after its first try: the header says where the earlier tries begin.
      if (gate.try_number > 1 && !(await page.locator(hook('gantt-earlier')).count())) throw new Error('no note of the tries before the run\'s start');
      await t.shoot(page, guard, '25-gantt-tries');
    },
  },
  {
    // Issue 12 review item 5: the task panel shows the task instance's note; an Op edits it (the API's 400
    // for a note over 1,000 characters shows as its detail in the dialog); a Viewer reads it only.
    name: 'task note: an Op edits a task instance\'s note, the API\'s refusal shown; a Viewer reads it',
    timeoutMs: 40000,
    async run(t) {
      const { hook, waitFor } = t.ui;
      const route = `#/dags/ui_quick/runs/${encodeURIComponent(t.fixture.quickRun)}/tasks/say_hello`;
      const api = `/api/v1/dags/ui_quick/dagRuns/${encodeURIComponent(t.fixture.quickRun)}/taskInstances/say_hello`;
      const { page, guard } = await t.context('op');
      guard.expect(400, '/setNote', 'PATCH');
      await t.ui.signIn(page, t.fixture.op, route);
      await page.locator(hook('task-note-edit')).click();
      const dialog = page.locator(hook('task-note-dialog'));
      await dialog.locator(hook('task-note-input')).fill('x'.repeat(1001));
      if (!(await dialog.locator(hook('task-note-count')).innerText()).startsWith('1,001 of 1,000')) throw new Error('the dialog does not count the characters');
      await dialog.locator(hook('task-note-save')).click();
      await waitFor(async () => (await dialog.locator(hook('error-box')).count()) === 1, { what: 'the refusal in the dialog' });
      const refusal = await dialog.locator(hook('error-box')).innerText();
      if (!refusal.includes('400') || !refusal.includes('at most 1000')) throw new Error(`the refusal reads ${refusal}`);
      await dialog.locator(hook('task-note-input')).fill('rerun after the upstream fix');
      await dialog.locator(hook('task-note-save')).click();
      await dialog.waitFor({ state: 'detached', timeout: 5000 });
      await waitFor(async () => (await page.locator(hook('task-note')).innerText()).trim() === 'rerun after the upstream fix',
        { timeoutMs: 5000, what: 'the panel showing the note' });
      if ((await t.daemon.apiOk('GET', api)).note !== 'rerun after the upstream fix') throw new Error('the API does not have the note');
      await t.shoot(page, guard, '30-task-note');

      const viewer = await t.context('viewer');
      await t.ui.signIn(viewer.page, t.fixture.viewer, route);
      await waitFor(async () => (await viewer.page.locator(hook('task-note')).innerText()).trim() === 'rerun after the upstream fix',
        { timeoutMs: 5000, what: 'the Viewer reading the note' });
      if (await viewer.page.locator(hook('task-note-edit')).count()) throw new Error('the Viewer is offered to edit the note');
      await t.daemon.apiOk('PATCH', `${api}/setNote`, { note: null });
    },
  },
  {
    // Issue 12 review item 6: the DAG page's header has the DAG list's pause switch (its word for a Viewer).
    name: 'DAG page: the header\'s pause switch is the DAG list\'s, and pauses the DAG',
    timeoutMs: 30000,
    async run(t) {
      const { hook, waitFor } = t.ui;
      const { page, guard } = await t.context('admin');
      await t.ui.signIn(page, t.fixture.admin, '#/dags/ui_quick/grid');
      const toggle = page.locator(`${hook('dag-paused')} ${hook('pause-toggle')}`);
      await toggle.waitFor();
      if ((await toggle.getAttribute('role')) !== 'switch') throw new Error('the header\'s pause control is not a switch');
      const paused = async () => (await t.daemon.apiOk('GET', '/api/v1/dags/ui_quick')).is_paused;
      const before = await paused();
      if ((await toggle.getAttribute('aria-checked')) !== String(!before)) throw new Error('the switch does not say what the API says');
      if (!(await toggle.innerText()).includes(before ? 'Paused' : 'Active')) throw new Error(`the switch reads ${await toggle.innerText()}`);
      await t.shoot(page, guard, '31-dag-header-switch');
      await toggle.click();
      await waitFor(async () => (await paused()) === !before, { what: 'the API saying the DAG changed' });
      await waitFor(async () => (await toggle.getAttribute('aria-checked')) === String(before), { what: 'the switch turned' });
      await toggle.click();
      await waitFor(async () => (await paused()) === before, { what: 'the DAG back as it was' });

      const viewer = await t.context('viewer');
      await t.ui.signIn(viewer.page, t.fixture.viewer, '#/dags/ui_quick/grid');
      const word = viewer.page.locator(`${hook('dag-paused')} ${hook('pause-state')}`);
      await word.waitFor();
      if ((await word.innerText()).trim() !== (before ? 'Paused' : 'Active')) throw new Error(`the Viewer reads ${await word.innerText()}`);
      if (await viewer.page.locator(hook('pause-toggle')).count()) throw new Error('the Viewer is offered the switch');
    },
  },
];
