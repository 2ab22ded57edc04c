/**
 * Durable storage of SafetyRules' last-signed record. `save` must be durable when it returns (the file store
 * overwrites the older of two CRC-checked slots in place and fdatasyncs; a torn write leaves the previous record) and
 * throw if it is not: SafetyRules releases a signature only after `save` returned. It is synchronous on purpose:
 * nothing else may happen between persisting and signing.
 */
export interface SafetyRecord {
  chainId: string;
  validator: string;
  height: number;
  round: number;
  /** 1 proposal, 2 prepare vote, 3 commit vote (CometBFT's step order). */
  step: 1 | 2 | 3;
  /** Hex of the exact bytes signed, so an identical request gets the same signature back. */
  signBytesHex: string;
  signature: string;
}

export interface SafetyStore {
  /** The last record saved, or null on a fresh validator. Throws if the stored record is unreadable (fatal). */
  load(): SafetyRecord | null;
  /** Persist durably; throws on any failure (fatal on the signing path). */
  save(record: SafetyRecord): void;
}
