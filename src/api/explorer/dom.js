// DOM helpers of the explorer. Every value reaches the page as a text node or an attribute set through the DOM
// (no HTML is ever parsed): a proof's script or a validator id is attacker-controlled and must show as text.

/**
 * Create an element. `props`: `class`, any attribute (set with setAttribute), or `on<event>` handlers.
 * Children: nodes, strings and numbers (as text), arrays of those; null, undefined and false are skipped.
 * @example h('a', { href: '#/validators' }, 'Validators')
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A link inside the explorer: `path` is a hash route such as `/blocks/3`. */
export function link(path, ...children) {
  return h('a', { href: '#' + path }, ...children);
}

/** The first 12 characters of a hash, with the whole of it as the title. */
export function short(hex) {
  const text = String(hex ?? '');
  return h('code', { title: text }, text.length > 14 ? text.slice(0, 12) + '…' : text);
}

export function fmtInt(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '–';
}

export function fmtMs(ms) {
  return typeof ms === 'number' ? `${Math.round(ms).toLocaleString('en-US')} ms` : '–';
}

/** A definition list from [term, value] pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([term, value]) => [h('dt', null, term), h('dd', null, value)]));
}

/** A table with a caption, column headers and rows of cells; the first cell of a row is its header. */
export function table(caption, headers, rows, empty = 'none') {
  const head = h('tr', null, headers.map((text) => h('th', { scope: 'col' }, text)));
  const body = rows.length
    ? rows.map(([first, ...rest]) => h('tr', null, h('th', { scope: 'row' }, first), rest.map((cell) => h('td', null, cell))))
    : [h('tr', null, h('td', { colspan: headers.length }, empty))];
  return h('table', null, h('caption', null, caption), h('thead', null, head), h('tbody', null, body));
}

/** A verdict or status as a labelled badge (colour is never the only signal: the word is always there). */
export function badge(word) {
  return h('span', { class: `badge badge-${String(word).replace(/[^a-z-]/g, '')}` }, String(word));
}

/** A section with a heading. */
export function section(title, ...children) {
  return h('section', { 'aria-label': title }, h('h2', null, title), ...children);
}
