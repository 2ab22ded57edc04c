/** Node counts of a ledger tree, for the tests of the stored tree (what a state pins in memory, what it holds). */
import { smtResolve, type SmtNode } from '../../src/core/ledger/smt.js';

/** Nodes reachable from `tree` without reading a stub: what the tree pins in memory. */
export function inMemoryNodes(tree: SmtNode | null): number {
  if (tree === null || tree.kind === 'stub') return 0;
  return 1 + (tree.kind === 'inner' ? inMemoryNodes(tree.left) + inMemoryNodes(tree.right) : 0);
}

/** Every node of `tree`, reading stubs. */
export function allNodes(tree: SmtNode | null): number {
  if (tree === null) return 0;
  const n = smtResolve(tree);
  return 1 + (n.kind === 'inner' ? allNodes(n.left) + allNodes(n.right) : 0);
}
