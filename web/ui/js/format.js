// How values look: times in the user's time zone (UTC in the `title`, shown on hover), durations,
// byte counts, and states — each state with its colour, an icon and its name, so states are told
// apart without colour too.
import {h} from './dom.js';

const STATES = {
  success: {icon: '✓', label: 'success'},
  failed: {icon: '✕', label: 'failed'},
  running: {icon: '▶', label: 'running'},
  queued: {icon: '⋯', label: 'queued'},
  scheduled: {icon: '◷', label: 'scheduled'},
  up_for_retry: {icon: '↻', label: 'up for retry'},
  up_for_reschedule: {icon: '↺', label: 'up for reschedule'},
  upstream_failed: {icon: '⚠', label: 'upstream failed'},
  skipped: {icon: '»', label: 'skipped'},
  removed: {icon: '⊘', label: 'removed'},
  deferred: {icon: '‖', label: 'deferred'},
  restarting: {icon: '⇄', label: 'restarting'},
  shutdown: {icon: '■', label: 'shutdown'},
  none: {icon: '○', label: 'no status'},
};

export function stateInfo(state) {
  const key = state && STATES[state] ? state : 'none';
  return {key, ...STATES[key], color: `var(--s-${key})`};
}

// A badge: coloured outline, icon and name.
export function stateBadge(state, attrs = {}) {
  const info = stateInfo(state);
  return h('span', {class: `state state-${info.key}`, style: {color: info.color}, dataset: {test: 'state-badge',
    state: info.key}, ...attrs}, h('span', {class: 'icon', 'aria-hidden': 'true'}, info.icon), info.label);
}

// A small filled square with the state's icon, for rows of marks; its name is in the title and for
// screen readers.
export function stateMark(state, {href, title, test = 'state-mark'} = {}) {
  const info = stateInfo(state);
  const attrs = {class: `mark state-${info.key}`, style: {background: info.color}, title: title || info.label,
    'aria-label': title || info.label, dataset: {test, state: info.key}};
  return href ? h('a', {href, ...attrs}, info.icon) : h('span', attrs, info.icon);
}

export const STATE_NAMES = Object.keys(STATES);

function toDate(value) {
  if (!value) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const localFormat = new Intl.DateTimeFormat(undefined, {year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false});
const shortFormat = new Intl.DateTimeFormat(undefined, {month: 'short', day: 'numeric', hour: '2-digit',
  minute: '2-digit', hour12: false});

export function utcText(value) {
  const date = toDate(value);
  return date ? date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC') : '';
}

export function localText(value, short = false) {
  const date = toDate(value);
  return date ? (short ? shortFormat : localFormat).format(date) : '';
}

// A <time> in the user's zone, with UTC on hover.
export function time(value, {short = false, empty = '—'} = {}) {
  const date = toDate(value);
  if (!date) return h('span', {class: 'muted'}, empty);
  return h('time', {datetime: date.toISOString(), title: utcText(date)}, localText(date, short));
}

// `2024-03-01T00:00:00.000+09:00`: the instant as the user's clock reads it, with its offset (what a form
// sends for a time the user typed in their zone; the API reads the offset).
export function localIso(value) {
  const date = toDate(value);
  if (!date) return '';
  const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, '0');
  const offset = -date.getTimezoneOffset();
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${
    pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}${offset < 0 ? '-' : '+'}${
    pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

// A calendar day `YYYY-MM-DD` in the user's zone: where it starts and the last millisecond of it.
export function dayStart(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d);
}
export function dayEnd(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(new Date(y, m - 1, d + 1).getTime() - 1);
}

// The user's calendar day of an instant, `YYYY-MM-DD` (what a date input holds).
export function localDay(value) {
  const date = toDate(value);
  return date ? `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}` : '';
}

export function timeZoneName() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}

// "1h 02m", "3m 07s", "4.2s", "—".
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)}s`;
  const s = Math.round(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (hours) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes) return `${minutes}m ${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

export function durationBetween(start, end) {
  const a = toDate(start);
  const b = toDate(end) || (a ? new Date() : null);
  return a && b ? (b - a) / 1000 : null;
}

export function bytes(count) {
  if (count === null || count === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = Number(count);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(value < 10 ? 2 : 1) : value} ${units[unit]}`;
}

export function usd(value) {
  return value === null || value === undefined ? '—' : `$${Number(value).toFixed(value < 1 ? 4 : 2)}`;
}

// What a schedule_interval from the API says: a cron expression, a TimeDelta, or manual.
export function schedule(dag) {
  const interval = dag.schedule_interval;
  if (!interval) return dag.timetable_description || 'manual only';
  if (interval.__type === 'CronExpression') return interval.value;
  if (interval.__type === 'TimeDelta') {
    const seconds = (interval.days || 0) * 86400 + (interval.seconds || 0);
    return `every ${duration(seconds)}`;
  }
  return dag.timetable_description || JSON.stringify(interval);
}
