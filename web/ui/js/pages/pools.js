// Pools (#/pools): each pool's slots and what fills them (running, queued, scheduled, deferred, open),
// live from the event stream; add, resize, describe and delete for Op and Admin.
// API: /api/v1/pools (docs/api-admin.md).
import {api, enc} from '../api.js';
import {h, mount} from '../dom.js';
import {adaptiveTable, throttle} from './backfills.js';
import {stateInfo} from '../format.js';
import {subscribe} from '../live.js';
import {busy, confirmDialog, errorBox, field, loading, modal, pager, table} from '../ui.js';

const PAGE = 100;

// The slots of a pool as a bar: running, queued and deferred parts over the pool's size.
function usageBar(pool) {
  const size = Math.max(pool.slots || 0, (pool.occupied_slots || 0));
  const parts = [['running', pool.running_slots], ['queued', pool.queued_slots], ['deferred', pool.deferred_slots]]
    .filter(([, n]) => n > 0);
  return h('div', {role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': String(pool.slots), 'aria-valuenow': String(pool.occupied_slots || 0),
    'aria-label': `${pool.occupied_slots || 0} of ${pool.slots} slots in use`, title: `${pool.occupied_slots || 0} of ${pool.slots} slots in use`,
    style: {display: 'flex', height: '.7rem', minWidth: '6rem', borderRadius: '999px', overflow: 'hidden',
      background: 'var(--hover)', border: '1px solid var(--line)'}},
  parts.map(([s, n]) => h('span', {style: {width: `${size ? (100 * n) / size : 0}%`, background: stateInfo(s).color}})));
}

function count(n, state) {
  const info = stateInfo(state);
  return n ? h('span', {class: 'state', style: {color: info.color}}, h('span', {class: 'icon', 'aria-hidden': 'true'}, info.icon), String(n))
    : h('span', {class: 'muted'}, '0');
}

export function render(root, route, ctx) {
  ctx.setTitle('Pools');
  let offset = 0;
  let disposed = false;
  const body = h('div', {}, loading());
  const errors = h('div', {'aria-live': 'polite'});
  const show = (err) => {
    if (!disposed) mount(body, errorBox(err));
  };

  async function refresh() {
    if (disposed) return;
    const answer = await api.get('pools', {limit: PAGE, offset, order_by: 'name'});
    if (disposed) return;
    const columns = [
      {title: 'Pool', cell: (p) => h('strong', {}, p.name)},
      {title: 'Slots', cell: (p) => String(p.slots)},
      {title: 'In use', cell: (p) => h('div', {}, usageBar(p), h('span', {class: 'small muted'}, `${p.occupied_slots} of ${p.slots}`))},
      {title: 'Running', cell: (p) => h('span', {dataset: {test: 'pool-running'}}, count(p.running_slots, 'running'))},
      {title: 'Queued', cell: (p) => h('span', {dataset: {test: 'pool-queued'}}, count(p.queued_slots, 'queued'))},
      {title: 'Scheduled', cell: (p) => count(p.scheduled_slots, 'scheduled')},
      {title: 'Deferred', cell: (p) => count(p.deferred_slots, 'deferred')},
      {title: 'Open', cell: (p) => h('span', {dataset: {test: 'pool-open'}}, String(p.open_slots))},
      {title: 'Description', cell: (p) => p.description || ''},
    ];
    if (ctx.can('pools')) {
      columns.push({title: '', cell: (p) => h('div', {class: 'row', style: {gap: '.35rem', flexWrap: 'nowrap'}},
        h('button', {type: 'button', dataset: {test: 'pool-edit'}, onclick: () => openEditor(p)}, 'Edit'),
        p.name === 'default_pool' ? null
          : h('button', {type: 'button', class: 'danger', dataset: {test: 'pool-delete'}, onclick: () => remove(p)}, 'Delete'))});
    }
    mount(body,
      adaptiveTable(columns, answer.pools || [], {test: 'pool-list', rowAttrs: (p) => ({dataset: {test: 'pool-row', pool: p.name}})}),
      pager(answer.total_entries || 0, offset, PAGE, (next) => {
        offset = next;
        refresh().catch(show);
      }));
  }

  async function remove(pool) {
    const ok = await confirmDialog(`Delete pool ${pool.name}?`, 'Tasks that name it wait until a pool of that name exists again.',
      {confirmText: 'Delete', danger: true});
    if (!ok) return;
    await busy(null, async () => {
      await api.del(`pools/${enc(pool.name)}`);
      await refresh();
    }, errors);
  }

  async function openEditor(pool) {
    errors.replaceChildren();
    const saved = await modal(pool ? `Edit pool ${pool.name}` : 'Add a pool', (close) => editor(pool, close), {test: 'pool-dialog'});
    if (saved) await refresh().catch(show);
  }

  mount(root,
    h('div', {class: 'toolbar'}, h('h1', {class: 'grow', style: {margin: 0}}, 'Pools'),
      ctx.can('pools') ? h('button', {type: 'button', class: 'primary', dataset: {test: 'pool-add'}, onclick: () => openEditor(null)}, '+ Add') : null),
    h('p', {class: 'muted'}, 'Tasks that name a pool share its slots; a task waits in scheduled while the pool has no open slot.'),
    errors, body);
  refresh().catch(show);
  // Slots change as task instances change state: refresh on those events, batched.
  const later = throttle(() => refresh().catch(show));
  const live = subscribe({
    onChange: (events) => {
      if (events.some((e) => e.kind === 'task_instance')) later();
    },
    onReset: () => refresh().catch(show),
    poll: refresh,
  });
  return () => {
    disposed = true;
    live.close();
  };
}

function editor(pool, close) {
  const name = h('input', {required: true, maxlength: '256', value: pool ? pool.name : '', disabled: pool && pool.name === 'default_pool',
    dataset: {test: 'pool-name'}});
  const slots = h('input', {type: 'number', min: '0', max: '1000000', required: true, value: pool ? String(pool.slots) : '1',
    dataset: {test: 'pool-slots'}});
  const description = h('input', {value: pool ? pool.description || '' : '', dataset: {test: 'pool-description'}});
  const formErrors = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit', class: 'primary', dataset: {test: 'pool-save'}}, 'Save');
  return h('form', {dataset: {test: 'pool-form'}, onsubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      const size = Number(slots.value);
      if (!Number.isInteger(size) || size < 0 || size > 1000000) {
        throw {status: 0, title: 'Bad size', detail: 'slots must be a whole number from 0 to 1000000'};
      }
      if (pool) {
        const mask = [];
        const body = {};
        if (name.value.trim() !== pool.name) {
          mask.push('name');
          body.name = name.value.trim();
        }
        if (size !== pool.slots) {
          mask.push('slots');
          body.slots = size;
        }
        if (description.value !== (pool.description || '')) {
          mask.push('description');
          body.description = description.value;
        }
        if (mask.length) await api.patch(`pools/${enc(pool.name)}`, body, {query: {update_mask: mask.join(',')}});
      } else {
        await api.post('pools', {name: name.value.trim(), slots: size, description: description.value});
      }
      close(true);
    }, formErrors);
  }},
  field('Name', name, pool ? 'renaming a pool leaves tasks that name the old one waiting' : null),
  field('Slots', slots),
  field('Description', description),
  formErrors,
  h('div', {class: 'dialog-actions'}, h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'), save));
}
