// Views of one proof (claim, verdict, who attested what, the receipt) and the form that submits one.
import { errorText, getBlock, getBlocks, getJson, postProof, proofIdOf } from './api.js';
import { badge, facts, fmtInt, h, link, section, short, table } from './dom.js';

const STATUS_TEXT = {
  pending: 'waiting in the mempool for a block',
  included: 'in a block; validators are checking it with Z3 and attesting their verdicts',
  final: 'final: more than 2/3 of the stake agreed (or the verdict window closed)',
  provisional: 'its committee\'s verdict, open to challenge: any validator may dispute it until the block below, and the whole set then decides',
  challenged: 'a validator disputed its committee\'s verdict: every validator verifies it again, and the whole set\'s verdict will stand',
  expired: 'left the mempool without being included; submit it again',
  rejected: 'refused by the ledger',
};

export const proof = {
  title: (params) => `Proof ${params.id.slice(0, 12)}`,
  async load(params, cfg) {
    const { status, body } = await getJson(`/proofs/${encodeURIComponent(params.id)}`);
    if (status !== 200) return { id: params.id, error: errorText(body, status) };
    if (body.height === undefined) return { id: params.id, state: body };
    const submitted = await submittedProof(body.height, params.id);
    const until = body.finalHeight ?? (await getJson('/status')).body.height;
    const last = Math.min(until, body.height + cfg.attestScanMax);
    return { id: params.id, state: body, submitted, attestations: attestationsOf(await getBlocks(body.height + 1, last), params.id), scanned: [body.height + 1, last] };
  },
  render(data) {
    const head = [h('h1', { tabindex: '-1' }, 'Proof ', short(data.id)), h('p', null, 'Id ', h('code', { class: 'wrap' }, data.id))];
    if (data.error) return [...head, h('p', { role: 'alert' }, data.error)];
    const s = data.state;
    return [
      ...head,
      section('Status', h('p', { role: 'status', 'aria-live': 'polite', 'data-testid': 'proof-status' }, badge(s.status), ' ', s.verdict ? ['verdict ', badge(s.verdict), ' '] : '', STATUS_TEXT[s.status] ?? ''),
        facts([
          ['Submitted in block', s.height ? link(`/blocks/${s.height}`, String(s.height)) : '–'],
          [s.status === 'provisional' ? 'Committee\'s verdict in block' : 'Final in block', s.finalHeight ? link(`/blocks/${s.finalHeight}`, String(s.finalHeight)) : '–'],
          ...(s.status === 'provisional' ? [['Open to challenge until block', fmtInt(s.challengeUntil)]] : []),
          ...(s.code ? [['Reason', `${s.code}: ${s.message}`]] : []),
          ...(s.height ? [['Verified by', verifiedBy(s)]] : []),
        ])),
      s.escalated !== undefined ? committeeSection(s) : null,
      s.challenge ? challengeSection(s.challenge) : null,
      data.submitted ? claimSection(data.submitted) : null,
      data.attestations ? section('Attestations', table(`Verdicts attested in blocks ${data.scanned[0]} to ${data.scanned[1]}`, ['Validator', 'Verdict', 'Block'],
        data.attestations.map((a) => [a.validator, badge(a.verdict), link(`/blocks/${a.height}`, String(a.height))]), 'none yet')) : null,
      s.status === 'final' || s.status === 'provisional' ? receiptSection(data.id, s.receipt, s.status) : null,
    ];
  },
};

const OUTCOME_TEXT = {
  overturned: 'overturned: the whole set reached another verdict than the committee\'s, and it replaced it',
  upheld: 'upheld: the whole set reached the committee\'s verdict; the challenger\'s bond was burned',
  undecided: 'undecided: the whole set reached no verdict of more than 2/3 of its stake; nobody was slashed',
};

/**
 * A challenge of the committee's verdict (docs/LEDGER.md "Challenges"): who disputed it with which verdict, at which
 * block, the bond it put up, and once the whole set decided, the outcome and the members slashed for a wrong verdict.
 */
export function challengeSection(c) {
  const slashed = c.slashed ?? [];
  return section('Challenge',
    facts([
      ['Challenger', String(c.challenger)],
      ['Its verdict', badge(c.verdict)],
      ['The committee\'s verdict', [badge(c.committeeVerdict), ' final in block ', link(`/blocks/${c.committeeFinalHeight}`, String(c.committeeFinalHeight))]],
      ['Challenged in block', link(`/blocks/${c.height}`, String(c.height))],
      ['Bond', fmtInt(c.bond)],
      ['Outcome', c.outcome ? [badge(c.outcome), ' ', OUTCOME_TEXT[c.outcome] ?? ''] : 'the whole set is verifying it'],
      ...(c.outcome ? [['Members slashed', slashed.length ? slashed.join(', ') : 'none']] : []),
    ]));
}

/**
 * Who verifies the proof: every validator on a network without committees (GET /proofs/:id then carries no
 * `escalated`), else its committee, or every validator once the committee escalated it.
 */
function verifiedBy(s) {
  if (s.escalated === undefined) return 'every validator (this network has no verification committees)';
  if (s.challenge && s.escalatedHeight === s.challenge.height) return ['every validator: ', badge('challenged'), ` at block ${fmtInt(s.challenge.height)}, a validator disputed its committee's verdict (below)`];
  if (s.escalated) return ['every validator: ', badge('escalated'), ` at block ${fmtInt(s.escalatedHeight)}, its committee reached no verdict of more than 2/3 of its stake`];
  return s.committee ? `its committee of ${s.committee.length} (below)` : 'its committee';
}

/**
 * The proof's verification committee: each member's stake, commitment and revealed verdict while the proof's
 * window is open (the ledger drops the committee when the window closes). A challenge of its verdict has a section
 * of its own (challengeSection).
 */
function committeeSection(s) {
  const members = s.committeeMembers ?? [];
  const total = members.reduce((sum, m) => sum + m.stake, 0);
  const explain = s.committeeMembers
    ? h('p', null, `Drawn by stake from the VRF output of block ${fmtInt(s.height)}. The verdict is final when members holding more than 2/3 of the committee's stake (${fmtInt(total)}) reveal the same one${s.escalated ? '; escalated, every validator now commits and reveals, and the whole set\'s stake decides' : ''}.`)
    : h('p', null, `The ledger dropped this proof's committee when its verdict window closed${s.escalated ? ' (it had escalated to every validator)' : ''}; its verdict and receipt stay.`);
  return section('Verification committee', explain,
    s.committeeMembers ? table(`Committee of this proof (${members.length} members)`, ['Validator', 'Stake', 'Committed', 'Revealed'],
      members.map((m) => [m.id, fmtInt(m.stake), m.committed ? 'yes' : 'not yet', m.revealed ? badge(m.revealed) : 'not yet'])) : null);
}

/** The submit tx of proof `id` in the block at `height` (found by recomputing each submit's id), or null. */
async function submittedProof(height, id) {
  const b = await getBlock(height);
  for (const tx of b?.txs ?? []) {
    if (tx?.type === 'submit' && (await proofIdOf(tx.proof)) === id) return tx.proof;
  }
  return null;
}

function attestationsOf(blocks, id) {
  const found = [];
  for (const b of blocks) {
    for (const tx of b.txs) {
      if (tx?.type !== 'attest-reveal') continue; // revealed verdicts (commitments hide theirs)
      const v = tx.reveals.find((entry) => entry.proofId === id);
      if (v) found.push({ validator: String(tx.validator), verdict: v.verdict, height: b.height });
    }
  }
  return found;
}

function claimSection(p) {
  return section('Claim', facts([['Claim', h('strong', null, String(p.claim))], ['Resource limit', p.rlimit ? fmtInt(p.rlimit) : 'network default']]),
    h('h3', null, 'SMT-LIB script'), h('pre', { class: 'script', 'data-testid': 'proof-script' }, String(p.smtlib)),
    p.model !== undefined ? [h('h3', null, 'Model'), h('pre', { class: 'script' }, String(p.model))] : null);
}

let receiptUrl = null;

function receiptSection(id, receipt, status) {
  if (receiptUrl) URL.revokeObjectURL(receiptUrl);
  const provisional = status === 'provisional' ? h('p', null, 'The verdict is provisional: a receipt of it proves the committee\'s verdict (its leaf says until which block it may be challenged), not that the verdict is final.') : null;
  if (!receipt) return section('Receipt', provisional, h('p', null, 'This node has not kept the results of the final block; ask another node.'));
  receiptUrl = URL.createObjectURL(new Blob([JSON.stringify(receipt, null, 2) + '\n'], { type: 'application/json' }));
  const file = `receipt-${id.slice(0, 16)}.json`;
  return section('Receipt', provisional,
    h('p', null, h('a', { href: receiptUrl, download: file, class: 'button' }, 'Download the receipt (JSON)')),
    h('p', null, 'The receipt proves this verdict without trusting this node: the verdict is a leaf of the block\'s results root, and the block carries commit signatures of more than 2/3 of the genesis stake. Check it offline, with the network\'s genesis file (data/genesis_state.json of a node):'),
    h('pre', null, `scripts/verify-receipt ${file} --genesis data/genesis_state.json`));
}

export const submit = {
  title: () => 'Submit a proof',
  live: false,
  async load() {
    return {};
  },
  render(_data, cfg) {
    const out = h('div', { role: 'status', 'aria-live': 'polite', class: 'form-status' });
    const form = h('form', { class: 'submit', novalidate: true },
      h('fieldset', null, h('legend', null, 'Claim: what the script\'s check-sat answers'),
        radio('claim', 'unsat', 'unsat (no assignment satisfies the assertions)', true), radio('claim', 'sat', 'sat (give a model below, or let Z3 find one)', false)),
      h('label', { for: 'smtlib' }, 'SMT-LIB script'),
      h('textarea', { id: 'smtlib', name: 'smtlib', rows: 12, required: true, spellcheck: 'false', 'aria-describedby': 'smtlib-help' }),
      h('p', { id: 'smtlib-help', class: 'help' }, `Paste the script or choose a file; at most ${fmtInt(cfg.scriptBytesMax)} bytes.`),
      h('label', { for: 'file' }, 'Script file'),
      h('input', { id: 'file', name: 'file', type: 'file', accept: '.smt2,.smt,.txt,text/plain', onchange: (e) => loadFile(e.target, form, out, cfg) }),
      h('label', { for: 'model' }, 'Model (optional, for a sat claim)'),
      h('textarea', { id: 'model', name: 'model', rows: 3, spellcheck: 'false' }),
      h('button', { type: 'submit' }, 'Submit proof'), out);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void send(form, out, cfg);
    });
    return [h('h1', { tabindex: '-1' }, 'Submit a proof'), form];
  },
};

function radio(name, value, text, checked) {
  const id = `${name}-${value}`;
  return h('div', null, h('input', { type: 'radio', id, name, value, checked }), h('label', { for: id }, text));
}

async function loadFile(input, form, out, cfg) {
  const file = input.files?.[0];
  if (!file) return;
  if (file.size > cfg.scriptBytesMax) return say(out, `${file.name} has ${fmtInt(file.size)} bytes; a script may have at most ${fmtInt(cfg.scriptBytesMax)}.`, true);
  form.elements.smtlib.value = await file.text();
  say(out, `Loaded ${file.name} (${fmtInt(file.size)} bytes).`, false);
}

async function send(form, out, cfg) {
  const smtlib = form.elements.smtlib.value;
  const model = form.elements.model.value.trim();
  const bytes = new TextEncoder().encode(smtlib).length;
  if (!smtlib.trim()) return say(out, 'Paste a script or choose a file first.', true);
  if (bytes > cfg.scriptBytesMax) return say(out, `The script has ${fmtInt(bytes)} bytes; at most ${fmtInt(cfg.scriptBytesMax)}.`, true);
  const body = { smtlib, claim: form.elements.claim.value, ...(model ? { model } : {}) };
  say(out, 'Submitting…', false);
  try {
    const res = await postProof(body);
    if (res.status === 202) {
      location.hash = `#/proofs/${res.body.id}`;
      return;
    }
    const retry = res.retryAfter ? ` Retry in ${res.retryAfter} s.` : '';
    say(out, `The node refused the proof: ${errorText(res.body, res.status)}.${retry}`, true);
  } catch (err) {
    say(out, `The node did not answer: ${err.message}`, true);
  }
}

function say(out, text, isError) {
  out.replaceChildren(isError ? h('p', { role: 'alert', class: 'error' }, text) : h('p', null, text));
}

