// Shared widgets: the error box (the API's `detail`, never a blank page), dialogs, confirm, forms,
// tables with paging (cards on a phone), and the paged list page the admin pages and backfills share.
import {api, enc} from './api.js';
import {h, mount} from './dom.js';
import {stateInfo} from './format.js';
import {subscribe} from './live.js';

// The API's error as the user should read it: its `detail` and the status.
export function errorBox(err, {test = 'error-box'} = {}) {
  const status = err && err.status ? `${err.status} ${err.title || ''}`.trim() : 'Error';
  const detail = (err && (err.detail || err.message)) || String(err);
  return h('div', {class: 'error-box', role: 'alert', dataset: {test}}, h('strong', {}, status), ': ', detail);
}

export function loading(text = 'Loading…') {
  return h('p', {class: 'muted', dataset: {test: 'loading'}}, text);
}

// A modal dialog (<dialog>, so Escape closes it and focus stays inside). `build(close)` returns
// the content; resolves with what close() was given (undefined on Escape).
export function modal(title, build, {test = 'dialog'} = {}) {
  return new Promise((resolve) => {
    const dialog = h('dialog', {'aria-label': title, dataset: {test}});
    let result;
    const close = (value) => {
      result = value;
      dialog.close();
    };
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    dialog.append(h('h2', {}, title), build(close));
    document.body.append(dialog);
    dialog.showModal();
  });
}

// Asks before something that cannot be undone; resolves true when confirmed.
// `cancelText` names the way out when the action itself is a cancel ('Keep it' / 'Cancel backfill').
export function confirmDialog(title, message, {confirmText = 'Confirm', cancelText = 'Cancel', danger = false} = {}) {
  return modal(title, (close) => h('div', {},
    h('p', {}, message),
    h('div', {class: 'dialog-actions'},
      h('button', {type: 'button', onclick: () => close(false), dataset: {test: 'confirm-cancel'}}, cancelText),
      h('button', {type: 'button', class: danger ? 'danger' : 'primary', autofocus: true,
        onclick: () => close(true), dataset: {test: 'confirm-ok'}}, confirmText))), {test: 'confirm-dialog'})
    .then((value) => value === true);
}

// Runs `action` with the button disabled; an error goes into `errorSlot` (an element) as its detail.
export async function busy(button, action, errorSlot) {
  if (errorSlot) errorSlot.replaceChildren();
  const was = button ? button.disabled : false;
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    if (errorSlot) errorSlot.replaceChildren(errorBox(err));
    else throw err;
    return undefined;
  } finally {
    if (button) button.disabled = was;
  }
}

// A labelled field: field('Run id', input, 'help text').
export function field(label, control, help) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', {class: 'field'}, h('label', {for: id}, label), control, help ? h('p', {class: 'field-help'}, help) : null);
}

// A table: columns [{title, cell(row) -> node|text, class}], rows; rowAttrs(row) for the <tr>.
export function table(columns, rows, {rowAttrs, empty = 'Nothing here yet.', test} = {}) {
  const head = h('thead', {}, h('tr', {}, columns.map((c) => h('th', {class: c.class, scope: 'col'}, c.title))));
  const body = h('tbody', {}, rows.length
    ? rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {}, columns.map((c) => h('td', {class: c.class}, c.cell(row)))))
    : h('tr', {}, h('td', {colspan: columns.length, class: 'muted'}, empty)));
  return h('div', {class: 'table-wrap', dataset: test ? {test} : {}}, h('table', {}, head, body));
}

// Previous / next for a list of `total` entries shown `limit` at a time from `offset`.
export function pager(total, offset, limit, go) {
  if (total <= limit && offset === 0) return null;
  const last = Math.min(total, offset + limit);
  return h('div', {class: 'pager', dataset: {test: 'pager'}},
    h('button', {type: 'button', disabled: offset <= 0, onclick: () => go(Math.max(0, offset - limit))}, '← Previous'),
    h('span', {class: 'muted'}, `${total ? offset + 1 : 0}–${last} of ${total}`),
    h('button', {type: 'button', disabled: last >= total, onclick: () => go(offset + limit)}, 'Next →'));
}

// A debounced function (search boxes).
export function debounce(fn, ms = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// `fn` run at most once per `ms`: a burst of events makes one call now and one at the end of the burst.
export function throttle(fn, ms = 1000) {
  let last = 0;
  let timer = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

// Tables on a phone: each row becomes a card of label and value pairs (shown instead of the table below
// 700 px). Both are built; the one that fits is shown, and a resize swaps them without a refetch.
const narrow = window.matchMedia('(max-width: 700px)');
narrow.addEventListener('change', () => {
  for (const el of document.querySelectorAll('[data-adaptive]')) el.hidden = (el.dataset.adaptive === 'cards') !== narrow.matches;
});

export function adaptiveTable(columns, rows, options = {}) {
  const wide = table(columns, rows, options);
  wide.dataset.adaptive = 'table';
  wide.hidden = narrow.matches;
  const cards = h('div', {dataset: {adaptive: 'cards'}, hidden: !narrow.matches},
    rows.length ? rows.map((row) => h('dl', {class: 'kv panel', style: {marginBottom: '.5rem'},
      dataset: options.test ? {test: `${options.test}-card`} : {}},
    columns.map((c) => [h('dt', {}, c.title || ''), h('dd', {}, c.cell(row))])))
      : h('p', {class: 'muted'}, options.empty || 'Nothing here yet.'));
  return h('div', {}, wide, cards);
}

// A page's title line: the <h1> and the tools beside it.
export function pageHeader(title, ...tools) {
  return h('div', {class: 'toolbar'}, h('h1', {class: 'grow', style: {margin: 0}}, title), tools);
}

// A button with its data-test hook: button('pool-edit', 'Edit', onclick), button(…, {class: 'danger'}).
export function button(test, text, onclick, attrs = {}) {
  return h('button', {type: 'button', ...attrs, dataset: {test}, onclick}, text);
}

// An icon and words in a state's colour (the icon is for the eye; the words say it without colour).
export function iconLabel(icon, text, color, attrs = {}) {
  return h('span', {class: 'state', style: {color}, ...attrs}, h('span', {class: 'icon', 'aria-hidden': 'true'}, icon), text);
}

// A bar of parts [[state, count], …] over `total`, each part as wide as its share, in its state's colour
// (`tips`: each part names its count and state on hover, and carries data-state). `attrs` are the bar's:
// its role, aria-*, height and width.
export function stateBar(parts, total, attrs, {tips = false} = {}) {
  return h('div', {...attrs, class: ['state-bar', attrs.class]},
    parts.map(([s, n]) => h('span', {title: tips ? `${n} ${stateInfo(s).label}` : null, dataset: tips ? {state: s} : null,
      style: {width: `${total ? (100 * n) / total : 0}%`, background: stateInfo(s).color}})));
}

// The object a JSON text holds, or the problem to show: parseObject(text, 'Invalid extra', 'the extra',
// '{"project": "x"}').
export function parseObject(text, title, name, example) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw {status: 0, title, detail: `${name} is not JSON: ${err.message}`};
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw {status: 0, title, detail: `${name} must be a JSON object, such as ${example}`};
  }
  return value;
}

// A form in a dialog (hooks `<test>-form`, `<test>-save`): the fields, the error slot, Cancel, `buttons`
// and the submit button. `submit()` runs with that button disabled and its error shown in the form; the
// dialog then closes with true, or with what submit returned when that is not undefined.
export function dialogForm(close, {test, submit, saveText = 'Save', buttons = null, errors = h('div', {'aria-live': 'polite'})}, ...fields) {
  const save = h('button', {type: 'submit', class: 'primary', dataset: {test: `${test}-save`}}, saveText);
  return h('form', {dataset: {test: `${test}-form`}, onsubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      const result = await submit();
      close(result === undefined ? true : result);
    }, errors);
  }},
  fields, errors,
  h('div', {class: 'dialog-actions'}, h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'), buttons, save));
}

// The members of `now` that differ from `before`: what an edit sends.
export function changes(now, before) {
  return Object.fromEntries(Object.entries(now).filter(([name, value]) => value !== before[name]));
}

// PATCH `path` with `body`, its members named in the update_mask; nothing is sent for an empty body.
export async function patchFields(path, body) {
  const mask = Object.keys(body);
  if (mask.length) await api.patch(path, body, {query: {update_mask: mask.join(',')}});
}

// A page listing an API collection a page at a time (limit/offset), as the admin pages and the backfills
// do: title line, intro, an error slot, the table (cards on a phone) and the pager. The spec:
//   title; intro (text under the title); tools (nodes beside the title); add (the '+ Add' button's handler,
//   null to leave it out) and addText; needs (the action ctx.can() must allow for the '+ Add' button and
//   the actions column to be shown: a role that cannot use them does not see them);
//   path ('pools'), items (the answer's list, by default the path's name), query (more of the query:
//   {order_by: 'name'}), pageSize (50), offset (the first page's);
//   test ('pool': the hooks pool-list, pool-row, pool-add, pool-dialog);
//   columns; actions(row) -> buttons, a last column (null when the role may not use them);
//   rowAttrs(row) -> the row's other attributes and data-*; empty (text, or a function giving it);
//   filter(rows) -> the rows shown; loaded(rows, listNode), awaited after each drawing;
//   live ({kinds: ['task_instance'], dagId}): reload on those events of the stream, at most once a second.
// Returns {reload, errors, dialog, edit, act, remove, dispose}.
export function pagedList(root, ctx, spec) {
  const {title, test, path, items = path, pageSize = 50} = spec;
  const allowed = !spec.needs || ctx.can(spec.needs);
  const actions = allowed ? spec.actions : null;
  ctx.setTitle(title);
  let offset = spec.offset || 0;
  let disposed = false;
  const body = h('div', {}, loading());
  const errors = h('div', {'aria-live': 'polite'});
  const show = (err) => {
    if (!disposed) mount(body, errorBox(err));
  };
  const columns = actions
    ? [...spec.columns, {title: '', cell: (row) => h('div', {class: 'row row-actions'}, actions(row))}]
    : spec.columns;

  async function refresh() {
    if (disposed) return;
    const answer = await api.get(path, {limit: pageSize, offset, ...spec.query});
    if (disposed) return;
    const rows = spec.filter ? spec.filter(answer[items] || []) : answer[items] || [];
    const list = adaptiveTable(columns, rows, {test: `${test}-list`,
      empty: typeof spec.empty === 'function' ? spec.empty() : spec.empty,
      rowAttrs: (row) => {
        const attrs = spec.rowAttrs ? spec.rowAttrs(row) : {};
        return {...attrs, dataset: {test: `${test}-row`, ...attrs.dataset}};
      }});
    mount(body, list, pager(answer.total_entries || 0, offset, pageSize, (next) => {
      offset = next;
      reload();
    }));
    if (spec.loaded) await spec.loaded(rows, list);
  }
  const reload = () => refresh().catch(show);

  // Runs `action` (with `actionButton` disabled), then reloads the list; an error shows above it.
  const act = (actionButton, action) => busy(actionButton, async () => {
    await action();
    await refresh();
  }, errors);

  // Asks, then deletes `itemPath`.
  const remove = async (question, consequence, itemPath) => {
    if (await confirmDialog(question, consequence, {confirmText: 'Delete', danger: true})) await act(null, () => api.del(itemPath));
  };

  // A dialog (hook `<test>-dialog`) whose content is `build(close)`; when it closes with true, `done`
  // runs: by default the list reloads.
  const dialog = async (dialogTitle, build, done = reload) => {
    errors.replaceChildren();
    if (await modal(dialogTitle, build, {test: `${test}-dialog`})) await done();
  };

  // The dialog of `build(item, close)` for the item at `itemPath`, read first (its error shows above the
  // list), or for a new one when `itemPath` is null; `titleOf(item)` names it.
  const edit = async (itemPath, titleOf, build) => {
    let item = null;
    if (itemPath) {
      errors.replaceChildren();
      try {
        item = await api.get(itemPath);
      } catch (err) {
        errors.replaceChildren(errorBox(err));
        return;
      }
    }
    await dialog(titleOf(item), (close) => build(item, close));
  };

  mount(root,
    pageHeader(title, spec.tools,
      spec.add && allowed ? button(`${test}-add`, spec.addText || '+ Add', spec.add, {class: 'primary'}) : null),
    spec.intro ? h('p', {class: 'muted'}, spec.intro) : null,
    errors, body);
  reload();
  let live = null;
  if (spec.live) {
    const later = throttle(reload);
    live = subscribe({
      dagId: spec.live.dagId,
      onChange: (events) => {
        if (events.some((e) => spec.live.kinds.includes(e.kind))) later();
      },
      onReset: reload,
      poll: refresh,
    });
  }
  return {
    reload, errors, dialog, edit, act, remove,
    dispose() {
      disposed = true;
      if (live) live.close();
    },
  };
}

// A DAG's pause switch, as Airflow's: the track's colour and the knob's side for the eye, the word
// (Active / Paused) for everyone. Without the `pause` right (a Viewer) only the word. A press PATCHes
// the DAG and calls `onChange(updatedDag)`; a refusal goes to `onError(err)`. The DAG list and the DAG
// page's header show the same switch.
export function pauseSwitch(dag, ctx, {onChange, onError, test = 'pause-toggle'} = {}) {
  const on = !dag.is_paused;
  if (!ctx.can('pause')) return h('span', {class: 'muted', dataset: {test: 'pause-state'}}, on ? 'Active' : 'Paused');
  const track = h('span', {class: 'switch-track', 'aria-hidden': 'true', style: {background: on ? 'var(--s-success)' : 'var(--s-none)'}},
    h('span', {class: 'switch-knob', style: {left: on ? 'calc(100% - 0.75rem - 2px)' : '2px'}}));
  const button = h('button', {type: 'button', class: 'link-button', role: 'switch', 'aria-checked': String(on),
    title: on ? 'Active: its schedule makes runs. Press to pause' : 'Paused: no run starts. Press to unpause',
    dataset: {test}}, track, on ? ' Active' : ' Paused');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const updated = await api.patch(`dags/${enc(dag.dag_id)}`, {is_paused: !dag.is_paused});
      dag.is_paused = updated.is_paused;
      if (onChange) onChange(updated);
    } catch (err) {
      if (onError) onError(err);
      button.disabled = false;
    }
  });
  return button;
}
