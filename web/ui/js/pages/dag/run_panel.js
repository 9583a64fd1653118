// A run's details and its run-level actions, shown above the grid and the run list when the URL names
// a run (?run=<id>): id, type, state, logical date, data interval, queued / start / end, duration, the
// DAG version, conf (JSON) and note. Op and Admin (ctx.can('clear') / ctx.can('mark'), as the task
// panel's Clear) clear the whole run (every task, or only the failed ones: a dry run lists what it
// clears before the confirm), mark it success or failed, and delete it; User and up edit its note.
// The page that shows the panel keeps it live: it hands over the run objects it reads (update) and
// the stream's events (onEvents), so the panel adds no request of its own while the run is in the
// page's list.
import {api, enc} from '../../api.js';
import {h, mount} from '../../dom.js';
import {duration, durationBetween, stateBadge, time} from '../../format.js';
import {busy, confirmDialog, dialogForm, errorBox, field, modal} from '../../ui.js';
import {taskInstances} from './data.js';

const NOTE_MAX = 1000;
const PREVIEW_MAX = 50;
const FINISHED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

export function runPanel({dagId, runId, base, ctx, closeHref}) {
  const path = `dags/${enc(dagId)}/dagRuns/${enc(runId)}`;
  const node = h('section', {class: 'panel', 'aria-label': `Run ${runId}`, dataset: {test: 'run-panel', run: runId},
    style: {marginBottom: '.75rem'}});
  const errors = h('div', {'aria-live': 'polite', dataset: {test: 'run-panel-errors'}});
  let run = null;
  let gone = false;
  let fetching = null;

  const canClear = ctx.can('clear');
  const canMark = ctx.can('mark');
  const canNote = ctx.can('note');

  const header = () => h('div', {class: 'toolbar', style: {marginBottom: '.5rem'}},
    h('h2', {style: {margin: 0, overflowWrap: 'anywhere'}}, 'Run ', h('span', {class: 'mono',
      dataset: {test: 'run-panel-id'}}, runId)),
    run ? stateBadge(run.state, {dataset: {test: 'run-panel-state', state: run.state || 'none'}}) : null,
    h('span', {class: 'grow'}),
    h('a', {href: closeHref, class: 'small', dataset: {test: 'run-panel-close'}, 'aria-label': 'Close the run details'},
      '✕ Close'));

  const actions = () => {
    if (!run || !(canClear || canMark)) return null;
    return h('div', {class: 'toolbar', dataset: {test: 'run-actions'}},
      canClear ? h('button', {type: 'button', dataset: {test: 'run-clear-button'}, onclick: (e) => clearRun(e.currentTarget)},
        '↻ Clear run…') : null,
      canMark && run.state !== 'success' ? h('button', {type: 'button', dataset: {test: 'run-mark-success'},
        onclick: (e) => markRun(e.currentTarget, 'success')}, '✓ Mark run success') : null,
      canMark && run.state !== 'failed' ? h('button', {type: 'button', class: 'danger', dataset: {test: 'run-mark-failed'},
        onclick: (e) => markRun(e.currentTarget, 'failed')}, '✕ Mark run failed') : null,
      canMark ? h('button', {type: 'button', class: 'danger', dataset: {test: 'run-delete'},
        onclick: (e) => deleteRun(e.currentTarget)}, 'Delete run…') : null);
  };

  const seconds = () => {
    if (!run || !run.start_date) return null;
    if (!run.end_date && run.state !== 'running' && run.state !== 'queued') return null;
    return durationBetween(run.start_date, run.end_date);
  };

  const conf = () => {
    const value = run.conf && typeof run.conf === 'object' ? run.conf : {};
    return Object.keys(value).length
      ? h('pre', {dataset: {test: 'run-conf'}, style: {margin: 0, maxHeight: '12rem', overflow: 'auto'}},
        JSON.stringify(value, null, 2))
      : h('span', {class: 'muted', dataset: {test: 'run-conf'}}, '{} (none)');
  };

  const note = () => h('span', {}, run.note
    ? h('span', {dataset: {test: 'run-note'}, style: {whiteSpace: 'pre-wrap', overflowWrap: 'anywhere',
      unicodeBidi: 'isolate'}}, run.note)
    : h('span', {class: 'muted', dataset: {test: 'run-note'}}, 'no note'),
  canNote ? [' ', h('button', {type: 'button', class: 'small', dataset: {test: 'run-note-edit'}, onclick: editNote},
    run.note ? '✎ Edit' : '✎ Add a note')] : null);

  const draw = () => {
    if (gone) {
      mount(node, header(), h('p', {class: 'muted', dataset: {test: 'run-panel-gone'}},
        'This run no longer exists (it was deleted).'), errors);
      return;
    }
    if (!run) {
      mount(node, header(), h('p', {class: 'muted'}, 'Loading the run…'), errors);
      return;
    }
    mount(node, header(), actions(), errors,
      h('dl', {class: 'kv', dataset: {test: 'run-details'}},
        h('dt', {}, 'Type'), h('dd', {dataset: {test: 'run-type'}}, run.run_type || '—',
          run.backfill_id ? h('span', {class: 'muted small'}, ` (backfill ${run.backfill_id})`) : null),
        h('dt', {}, 'Logical date'), h('dd', {dataset: {test: 'run-logical-date'}}, time(run.logical_date)),
        h('dt', {}, 'Data interval'), h('dd', {dataset: {test: 'run-data-interval'}}, time(run.data_interval_start), ' → ',
          time(run.data_interval_end)),
        h('dt', {}, 'Queued'), h('dd', {}, time(run.queued_at)),
        h('dt', {}, 'Started'), h('dd', {}, time(run.start_date)),
        h('dt', {}, 'Ended'), h('dd', {}, time(run.end_date)),
        h('dt', {}, 'Duration'), h('dd', {dataset: {test: 'run-duration'}}, duration(seconds())),
        run.dag_version !== undefined && run.dag_version !== null
          ? [h('dt', {}, 'DAG version'), h('dd', {}, String(run.dag_version))] : null,
        h('dt', {}, 'Conf'), h('dd', {style: {minWidth: 0}}, conf()),
        h('dt', {}, 'Note'), h('dd', {}, note())),
      h('p', {class: 'small', style: {margin: '.5rem 0 0'}},
        h('a', {href: `${base}/gantt?run=${enc(runId)}`}, 'Gantt of this run'), ' · ',
        h('a', {href: `${base}/graph?run=${enc(runId)}`}, 'Graph of this run')));
  };

  // The run as the page read it (null: the page's list does not hold it; fetch it).
  const update = (fresh) => {
    if (!fresh) return refresh();
    run = fresh;
    gone = false;
    draw();
    return Promise.resolve();
  };

  const refresh = () => {
    if (fetching) return fetching;
    fetching = api.get(path).then((answer) => {
      run = answer;
      gone = false;
      errors.replaceChildren();
    }).catch((err) => {
      if (err && err.status === 404) gone = true;
      else errors.replaceChildren(errorBox(err));
    }).finally(() => {
      fetching = null;
      draw();
    });
    return fetching;
  };

  const onEvents = (events) => {
    if (events.some((e) => e.dag_run_id === runId && e.kind === 'dag_run')) refresh();
  };

  // Clear: every task of the run (POST …/clear) or only its failed ones (clearTaskInstances with
  // only_failed), each first as a dry run whose list is shown; nothing is cleared before the confirm.
  const clearRun = async (button) => {
    errors.replaceChildren();
    const scopeAll = h('input', {type: 'radio', name: 'run-clear-scope', value: 'all', checked: true,
      dataset: {test: 'run-clear-all'}});
    const scopeFailed = h('input', {type: 'radio', name: 'run-clear-scope', value: 'failed',
      dataset: {test: 'run-clear-only-failed'}});
    const preview = h('div', {class: 'small', dataset: {test: 'run-clear-preview'}}, 'Listing what it clears…');
    const dialogErrors = h('div', {'aria-live': 'polite'});
    const confirm = h('button', {type: 'button', class: 'primary', disabled: true, dataset: {test: 'run-clear-confirm'}},
      'Clear');
    const request = (dry) => (scopeFailed.checked
      ? api.post(`dags/${enc(dagId)}/clearTaskInstances`, {dry_run: dry, dag_run_id: runId, only_failed: true})
      : api.post(`${path}/clear`, {dry_run: dry}));
    let asked = 0;
    const showPreview = async () => {
      const mine = ++asked;
      confirm.disabled = true;
      mount(preview, 'Listing what it clears…');
      try {
        const answer = await request(true);
        if (mine !== asked) return;
        const list = answer.task_instances || [];
        confirm.disabled = list.length === 0;
        mount(preview, list.length
          ? [h('p', {dataset: {test: 'run-clear-count', count: list.length}},
            `Clears ${list.length} task instance${list.length === 1 ? '' : 's'}:`),
          h('ul', {style: {maxHeight: '12rem', overflow: 'auto'}}, list.slice(0, PREVIEW_MAX).map((t) =>
            h('li', {class: 'mono', dataset: {test: 'run-clear-task', task: t.task_id}}, t.task_id))),
          list.length > PREVIEW_MAX ? h('p', {class: 'muted'}, `… and ${list.length - PREVIEW_MAX} more`) : null]
          : h('p', {class: 'muted', dataset: {test: 'run-clear-count', count: 0}},
            scopeFailed.checked ? 'No failed task in this run: nothing to clear.' : 'Nothing to clear.'));
      } catch (err) {
        if (mine === asked) mount(preview, errorBox(err));
      }
    };
    scopeAll.addEventListener('change', showPreview);
    scopeFailed.addEventListener('change', showPreview);
    showPreview();
    const go = await modal(`Clear run ${runId}`, (close) => {
      confirm.onclick = () => busy(confirm, async () => {
        await request(false);
        close(true);
      }, dialogErrors);
      return h('div', {},
        h('p', {}, 'Clearing sets the tasks back to no status: they run again, and the run is queued again.'),
        h('label', {class: 'inline'}, scopeAll, ' Every task of the run'),
        h('label', {class: 'inline'}, scopeFailed, ' Only the failed ones (failed and upstream failed)'),
        preview, dialogErrors,
        h('div', {class: 'dialog-actions'},
          h('button', {type: 'button', dataset: {test: 'run-clear-cancel'}, onclick: () => close(false)}, 'Cancel'),
          confirm));
    }, {test: 'run-clear-dialog'});
    if (go) await busy(button, refresh, errors);
  };

  // Mark: the dialog lists what changes (from the run's task instances) before the confirm; PATCH of the
  // run has no dry run.
  const markRun = async (button, state) => {
    errors.replaceChildren();
    const preview = h('div', {class: 'small', dataset: {test: 'run-mark-preview'}}, 'Listing what changes…');
    const dialogErrors = h('div', {'aria-live': 'polite'});
    const confirm = h('button', {type: 'button', class: state === 'failed' ? 'danger' : 'primary',
      dataset: {test: 'run-mark-confirm'}}, `Mark run ${state}`);
    taskInstances(dagId, [runId]).then((byRun) => {
      const tis = [...(byRun.get(runId) || new Map()).values()];
      const changes = state === 'success'
        ? tis.filter((t) => t.state !== 'success').map((t) => [t.task_id, t.state, 'success'])
        : tis.filter((t) => !FINISHED.has(t.state)).map((t) => [t.task_id, t.state,
          t.state === 'running' ? 'failed' : 'skipped']);
      mount(preview, changes.length
        ? [h('p', {dataset: {test: 'run-mark-count', count: changes.length}},
          `${changes.length} task instance${changes.length === 1 ? '' : 's'} change:`),
        h('ul', {style: {maxHeight: '12rem', overflow: 'auto'}}, changes.slice(0, PREVIEW_MAX).map(([task, from, to]) =>
          h('li', {dataset: {test: 'run-mark-task', task}}, h('span', {class: 'mono'}, task), ` ${from || 'no status'} → ${to}`))),
        changes.length > PREVIEW_MAX ? h('p', {class: 'muted'}, `… and ${changes.length - PREVIEW_MAX} more`) : null]
        : h('p', {class: 'muted', dataset: {test: 'run-mark-count', count: 0}},
          `No task instance changes: only the run's state becomes ${state}.`));
    }).catch((err) => mount(preview, errorBox(err)));
    const what = state === 'success'
      ? 'Every task of the run is set to success (a running try is ended).'
      : 'Running tries end as failed and the tasks that have not finished are skipped; finished tasks keep their state.';
    const done = await modal(`Mark run ${state}`, (close) => {
      confirm.onclick = () => busy(confirm, async () => {
        close(await api.patch(path, {state}));
      }, dialogErrors);
      return h('div', {},
        h('p', {}, `Mark run ${runId} of ${dagId} ${state}? ${what}`),
        preview, dialogErrors,
        h('div', {class: 'dialog-actions'},
          h('button', {type: 'button', onclick: () => close(null)}, 'Cancel'),
          confirm));
    }, {test: 'run-mark-dialog'});
    if (done && typeof done === 'object') {
      run = done;
      draw();
    } else if (button) button.focus();
  };

  const deleteRun = async (button) => {
    errors.replaceChildren();
    if (!await confirmDialog('Delete run', `Delete run ${runId} of ${dagId} and its task instances (with their tries)? ` +
      'A running try is ended. This cannot be undone.', {confirmText: 'Delete run', danger: true})) return;
    await busy(button, async () => {
      await api.del(path);
      gone = true;
      draw();
      location.hash = closeHref;
    }, errors);
  };

  const editNote = async () => {
    errors.replaceChildren();
    const text = h('textarea', {rows: 4, maxlength: NOTE_MAX, style: {width: '100%'}, dataset: {test: 'run-note-input'}});
    text.value = run.note || '';
    const saved = await modal(run.note ? 'Edit the run\'s note' : 'Add a note to the run', (close) => dialogForm(close, {
      test: 'run-note',
      submit: async () => {
        const value = text.value.trim() ? text.value : null;
        return api.patch(`${path}/setNote`, {note: value});
      },
    }, field('Note', text, `At most ${NOTE_MAX} characters; empty removes the note. Everyone who can read the DAG sees it.`)),
    {test: 'run-note-dialog'});
    if (saved && typeof saved === 'object') {
      run = saved;
      draw();
    }
  };

  draw();
  return {node, update, refresh, onEvents};
}
