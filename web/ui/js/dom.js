// Building the page's elements. Text always goes in as text (textContent, attributes): nothing here
// parses HTML, so a DAG id or a log line can never become markup.

// h('a', {href: '#/dags', class: 'x', dataset: {test: 'dag-row'}, onclick: fn}, 'text', child, [more])
// Attributes: `class`, `style` (a string or an object), `dataset`, on<event> handlers, booleans
// (true sets, false/null/undefined leaves out), anything else as an attribute.
export function h(tag, attrs, ...children) {
  const el = tag.includes(':') || SVG_TAGS.has(tag)
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.replace(/^svg:/, ''))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (name === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'value' && 'value' in el && !(el instanceof SVGElement)) el.value = value;
    else if (name === 'checked' || name === 'selected') el[name] = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

const SVG_TAGS = new Set(['svg', 'g', 'rect', 'path', 'line', 'text', 'title', 'polygon', 'circle', 'defs', 'marker', 'tspan']);

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// Replaces what `root` holds with `nodes`.
export function mount(root, ...nodes) {
  root.replaceChildren();
  append(root, nodes);
  return root;
}

export function clear(root) {
  root.replaceChildren();
}

// A hash link: link('#/dags/x', 'x').
export function link(href, ...children) {
  return h('a', {href}, ...children);
}

// Encodes one path segment of a hash route (a DAG id or run id may hold '/', '+', ':').
export function seg(text) {
  return encodeURIComponent(text);
}
