/**
 * Where the ledger's stored tree nodes are read from, synchronously (the ledger is a synchronous function): the
 * LevelDB store implements it with getSync; tests and the simulator with a Map (memorySmtNodeSource in
 * src/core/ledger/smt-store.ts). The records are the bytes smt-store.ts wrote; this port only finds them.
 */
export interface SmtNodeSource {
  /** The record stored under `nodeKey`, or undefined when there is none. */
  readNode(nodeKey: string): Uint8Array | undefined;
}
