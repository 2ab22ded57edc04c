// Views of the chain: the overview (height, health, latest blocks), one block, the validator set.
import { errorText, getBlock, getBlocks, getJson, proofIdOf } from './api.js';
import { badge, facts, fmtInt, fmtMs, h, link, section, short, table } from './dom.js';

/** Count a block's txs by type. */
function txCounts(block) {
  const counts = { submit: 0, attest: 0, other: 0 };
  for (const tx of block.txs) counts[tx?.type === 'submit' ? 'submit' : tx?.type === 'attest-commit' || tx?.type === 'attest-reveal' ? 'attest' : 'other']++;
  return counts;
}

export const overview = {
  title: () => 'Overview',
  async load(_params, cfg) {
    const [status, health, validators] = await Promise.all([getJson('/status'), getJson('/health'), getJson('/validators')]);
    if (status.status !== 200) throw new Error(errorText(status.body, status.status));
    const height = status.body.height;
    const blocks = height > 0 ? (await getBlocks(Math.max(1, height - cfg.blocksListed + 1), height)).reverse() : [];
    return { status: status.body, health: health.body, validators: validators.body.validators ?? [], blocks };
  },
  render({ status, health, validators, blocks }) {
    const jailed = validators.filter((v) => v.jailed).length;
    const latency = status.commitLatencyMs;
    const rows = blocks.map((block) => {
      const counts = txCounts(block);
      return [link(`/blocks/${block.height}`, String(block.height)), short(block.hash), counts.submit, counts.attest, counts.other, block.certificate.signatures.length, block.certificate.round];
    });
    return [
      h('h1', { tabindex: '-1' }, 'Chain ', h('code', null, status.chainId)),
      section('Status', facts([
        ['Height', h('span', { 'data-testid': 'height' }, fmtInt(status.height))],
        ['Health', [badge(health.status), health.reason ? ` ${health.reason}` : '']],
        ['Syncing', status.syncing ? 'yes' : 'no'],
        ['Round', fmtInt(status.round)],
        ['Leader', status.leader ?? '–'],
        ['This node', [status.nodeId, status.isLeader ? ' (leader)' : '']],
        ['Peers connected', fmtInt(status.peers)],
        ['Validators', `${validators.length} (${jailed} jailed)`],
        ['Proofs submitted / final', `${fmtInt(status.proofs.submitted)} / ${fmtInt(status.proofs.finalized)}`],
        ['Mempool', `${fmtInt(status.mempool.size)} proofs, ${fmtInt(status.mempool.bytes)} bytes`],
        ['Commit latency (last / average)', `${fmtMs(latency.last)} / ${fmtMs(latency.avg)}`],
        ['Z3', status.z3Version],
      ])),
      section('Latest blocks', table('The latest blocks, newest first', ['Height', 'Hash', 'Proofs', 'Attestations', 'Other txs', 'Signatures', 'Round'], rows, 'no block yet')),
    ];
  },
};

export const block = {
  title: (params) => `Block ${params.height}`,
  async load(params) {
    const found = await getBlock(params.height);
    if (!found) return { height: params.height, block: null };
    const ids = await Promise.all(found.txs.map((tx) => (tx?.type === 'submit' ? proofIdOf(tx.proof) : null)));
    return { height: params.height, block: found, ids };
  },
  render({ height, block: b, ids }) {
    const nav = h('p', { class: 'pager' }, height > 1 ? link(`/blocks/${height - 1}`, '← Block ', String(height - 1)) : null, ' ', link(`/blocks/${height + 1}`, 'Block ', String(height + 1), ' →'));
    if (!b) return [h('h1', { tabindex: '-1' }, `Block ${height}`), h('p', null, 'This node has no block at this height (yet); the page updates when it commits one.'), nav];
    const headerPairs = Object.entries(b.header).map(([key, value]) => [key, typeof value === 'string' && value.length > 20 ? h('code', null, value) : String(value)]);
    return [
      h('h1', { tabindex: '-1' }, `Block ${b.height}`),
      nav,
      section('Header', facts([['Hash', h('code', null, b.hash)], ...headerPairs])),
      section('Proofs submitted', submits(b, ids)),
      section('Attestations', attests(b)),
      section('Other transactions', others(b)),
      section('Commit certificate', facts([['Round', String(b.certificate.round)], ['Block hash', h('code', null, b.certificate.blockHash)], ['Signatures', String(b.certificate.signatures.length)]]),
        table('Validators whose commit signatures certify this block', ['Validator', 'Signature'], b.certificate.signatures.map((s) => [s.validator, short(s.signature)]))),
    ];
  },
};

function submits(b, ids) {
  const items = b.txs.map((tx, i) => (tx?.type === 'submit' ? [tx, ids[i]] : null)).filter(Boolean);
  if (!items.length) return h('p', null, 'none');
  return h('ol', { class: 'txs' }, items.map(([tx, id]) => h('li', null,
    h('p', null, 'Proof ', id ? link(`/proofs/${id}`, short(id)) : '(id needs a secure context)', ', claim ', h('strong', null, String(tx.proof.claim)),
      tx.proof.rlimit ? `, rlimit ${fmtInt(tx.proof.rlimit)}` : ''),
    h('details', null, h('summary', null, `SMT-LIB script (${fmtInt(new TextEncoder().encode(String(tx.proof.smtlib)).length)} bytes)`), h('pre', { class: 'script' }, String(tx.proof.smtlib))),
    tx.proof.model !== undefined ? h('details', null, h('summary', null, 'Model'), h('pre', { class: 'script' }, String(tx.proof.model))) : null,
  )));
}

function attests(b) {
  const rows = [];
  for (const tx of b.txs) {
    // Commitments hide their verdict until the reveal (docs/LEDGER.md "Attestations: commit and reveal").
    const items = tx?.type === 'attest-commit' ? tx.commitments : tx?.type === 'attest-reveal' ? tx.reveals : [];
    for (const v of items) rows.push([String(tx.validator), link(`/proofs/${encodeURIComponent(v.proofId)}`, short(v.proofId)), badge(tx.type === 'attest-commit' ? 'committed' : v.verdict)]);
  }
  return table('Verdicts validators signed in this block (on proofs of earlier blocks)', ['Validator', 'Proof', 'Verdict'], rows);
}

function others(b) {
  const items = b.txs.filter((tx) => tx?.type !== 'submit' && tx?.type !== 'attest');
  if (!items.length) return h('p', null, 'none');
  return h('ol', { class: 'txs' }, items.map((tx) => h('li', null, h('strong', null, String(tx?.type)), h('pre', null, JSON.stringify(tx, null, 2)))));
}

export const validators = {
  title: () => 'Validators',
  async load() {
    const { status, body } = await getJson('/validators');
    if (status !== 200) throw new Error(errorText(body, status));
    return body;
  },
  render({ height, validators: list, committees }, cfg) {
    // Networks with verification committees add a column: each validator's seats on open proofs' committees.
    const rows = list.map((v) => [
      String(v.id), fmtInt(v.stake), fmtInt(v.rewards), fmtInt(v.balance),
      v.accuracy.ratio === null ? '–' : `${(v.accuracy.ratio * 100).toFixed(1)}% (${v.accuracy.matched}/${v.accuracy.compared})`,
      fmtInt(v.accuracy.abstained), fmtInt(v.accuracy.missed), v.jailed ? badge('jailed') : 'no', signing(v.lastSignedHeight, height, cfg),
      ...(committees ? [v.committee ? `${fmtInt(v.committee.seats)} seats, ${fmtInt(v.committee.committed)} committed, ${fmtInt(v.committee.revealed)} revealed` : '–'] : []),
    ]);
    const headers = ['Validator', 'Stake', 'Rewards', 'Balance', 'Accuracy', 'Abstained', 'Missed', 'Jailed', 'Signing', ...(committees ? ['Committee'] : [])];
    return [
      h('h1', { tabindex: '-1' }, 'Validators'),
      h('p', null, `${list.length} validators at height ${fmtInt(height)}. Accuracy: verdicts that matched the final one, of those compared.`),
      h('p', { 'data-testid': 'verifiers' }, committees
        ? `Verification committees: each proof is verified by ${committees.size} validators drawn by stake from its block's VRF output; ${fmtInt(committees.openProofs)} proofs are open (${fmtInt(committees.escalatedOpen)} escalated to every validator${challengeCounts(committees)}). Committee: seats on open proofs' committees, and of those committed and revealed; accuracy and missed count committee work.`
        : 'Every validator verifies every proof (this network has no verification committees).'),
      table('The validator set', headers, rows, 'no validator'),
    ];
  },
};

/** "signing" when the validator's signature is in one of the latest certificates, else since when it is not. */
function signing(last, height, cfg) {
  if (last === null) return badge('never');
  const behind = height - last;
  return behind <= cfg.signingRecentBlocks ? [badge('signing'), ` at ${fmtInt(last)}`] : [badge('silent'), ` since ${fmtInt(last)}`];
}

/** Committee verdicts open to challenge and challenged now (GET /validators, networks with challenges), or nothing. */
function challengeCounts(c) {
  const provisional = c.provisionalOpen ?? 0;
  const challenged = c.challengesOpen ?? 0;
  return provisional + challenged > 0 ? `; ${fmtInt(provisional)} committee verdicts provisional, open to challenge, and ${fmtInt(challenged)} challenged` : '';
}
