// Shared widgets: the error box (the API's `detail`, never a blank page), dialogs, confirm, forms
// and tables with paging.
import {h} from './dom.js';

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
export function confirmDialog(title, message, {confirmText = 'Confirm', danger = false} = {}) {
  return modal(title, (close) => h('div', {},
    h('p', {}, message),
    h('div', {class: 'dialog-actions'},
      h('button', {type: 'button', onclick: () => close(false), dataset: {test: 'confirm-cancel'}}, 'Cancel'),
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
