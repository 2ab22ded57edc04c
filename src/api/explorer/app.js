// The explorer's entry module: hash routes to views, live updates by polling the node's JSON routes, and a
// pause switch. Limits come from the node (data-* attributes of <body>, from src/core/limits.ts).
import { block, overview, validators } from './views-chain.js';
import { proof, submit } from './views-proof.js';
import { h } from './dom.js';

const cfg = readConfig(document.body.dataset);
const main = document.getElementById('main');
const note = document.getElementById('live-note');
const pause = document.getElementById('pause');
const state = { route: '', timer: 0, shown: '', paused: false, seq: 0 };

const ROUTES = [
  [/^\/$/, overview, () => ({})],
  [/^\/blocks\/([1-9][0-9]{0,14})$/, block, (m) => ({ height: Number(m[1]) })],
  [/^\/validators$/, validators, () => ({})],
  [/^\/proofs\/([0-9a-f]{64})$/, proof, (m) => ({ id: m[1] })],
  [/^\/submit$/, submit, () => ({})],
];

function readConfig(data) {
  const n = (key) => Number(data[key]);
  return { pollMs: n('pollMs'), blocksListed: n('blocksListed'), attestScanMax: n('attestScanMax'), signingRecentBlocks: n('signingRecentBlocks'), scriptBytesMax: n('scriptBytesMax'), modelBytesMax: n('modelBytesMax') };
}

function resolve(path) {
  for (const [re, view, params] of ROUTES) {
    const m = re.exec(path);
    if (m) return { view, params: params(m) };
  }
  return null;
}

/**
 * Show the route in the address bar's hash. On a route the reader followed (not the first page load, where focus
 * stays at the top for the skip link), move focus to the new heading so screen readers announce it.
 */
async function show(isNewRoute, moveFocus = isNewRoute) {
  const path = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const route = resolve(path);
  clearTimeout(state.timer);
  const seq = ++state.seq;
  markNav(path);
  if (!route) return paint([h('h1', { tabindex: '-1' }, 'Not found'), h('p', null, 'No explorer page at this address.')], 'Not found', true, moveFocus);
  try {
    const data = await route.view.load(route.params, cfg);
    if (seq !== state.seq) return;
    const text = JSON.stringify(data);
    if (isNewRoute || text !== state.shown) paint(route.view.render(data, cfg), route.view.title(route.params), isNewRoute, moveFocus);
    state.shown = text;
    note.textContent = '';
  } catch (err) {
    if (seq !== state.seq) return;
    if (isNewRoute) paint([h('h1', { tabindex: '-1' }, 'Unavailable')], 'Unavailable', true, moveFocus);
    note.textContent = `The node did not answer (${err.message}); retrying.`;
  }
  if (route.view.live !== false && !state.paused) state.timer = setTimeout(() => void show(false), cfg.pollMs);
}

/** Replace the page's content, keeping keyboard focus on the same link or control when it is still there. */
function paint(nodes, title, isNewRoute, moveFocus) {
  const focused = document.activeElement;
  const key = !isNewRoute && focused && main.contains(focused) ? focused.getAttribute('href') ?? focused.id : null;
  main.replaceChildren(...nodes.flat().filter(Boolean));
  document.title = `${title} · Proof-of-Proof explorer`;
  if (moveFocus) main.querySelector('h1')?.focus();
  else if (key) [...main.querySelectorAll('a, [id]')].find((el) => el.getAttribute('href') === key || el.id === key)?.focus();
}

function markNav(path) {
  for (const a of document.querySelectorAll('nav a')) {
    const target = a.getAttribute('href').slice(1);
    const current = target === path || (target !== '/' && path.startsWith(target));
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function onSearch(event) {
  event.preventDefault();
  const input = event.target.elements.q;
  const q = input.value.trim().toLowerCase();
  if (/^[0-9a-f]{64}$/.test(q)) location.hash = `#/proofs/${q}`;
  else if (/^[1-9][0-9]{0,14}$/.test(q)) location.hash = `#/blocks/${q}`;
  else note.textContent = 'Enter a proof id (64 hex characters) or a block height.';
}

pause.addEventListener('click', () => {
  state.paused = !state.paused;
  pause.setAttribute('aria-pressed', String(state.paused));
  pause.textContent = state.paused ? 'Resume updates' : 'Pause updates';
  if (!state.paused) void show(false);
  else clearTimeout(state.timer);
});
document.getElementById('search').addEventListener('submit', onSearch);
// Only '#/...' is a route: '#main' is the skip link's target.
window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#/') || location.hash === '') void show(true);
});
void show(true, false);
