/**
 * Length-prefixed frames on a peer stream: u32 BE payload length, then the payload (UTF-8 JSON).
 * The decoder is incremental and bounded: a declared length above the cap is refused before any of the
 * payload is buffered, so a peer cannot make us allocate more than one maximal frame.
 */
import { P2P_FRAME_BYTES_MAX } from '../../core/limits.js';

export const FRAME_HEADER_BYTES = 4;

export type FrameErrorCode = 'FRAME_TOO_LARGE';

export class FrameError extends Error {
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Encode one payload as a frame. @throws FrameError FRAME_TOO_LARGE */
export function encodeFrame(payload: Uint8Array, frameBytesMax = P2P_FRAME_BYTES_MAX): Uint8Array {
  if (payload.length > frameBytesMax) throw new FrameError('FRAME_TOO_LARGE', `frame of ${payload.length} bytes exceeds ${frameBytesMax}`);
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, false);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Incremental frame decoder. `push` returns the complete payloads so far.
 * @throws FrameError FRAME_TOO_LARGE as soon as a header declares more than `frameBytesMax`.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly frameBytesMax = P2P_FRAME_BYTES_MAX) {}

  push(chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Uint8Array[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const header = this.peek(FRAME_HEADER_BYTES);
      const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
      if (length > this.frameBytesMax) throw new FrameError('FRAME_TOO_LARGE', `peer declared a frame of ${length} bytes (max ${this.frameBytesMax})`);
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.consume(FRAME_HEADER_BYTES + length);
      frames.push(whole.subarray(FRAME_HEADER_BYTES));
    }
    return frames;
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  private peek(bytes: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= bytes) return first.subarray(0, bytes);
    this.chunks = [concat(this.chunks, this.buffered)];
    return this.chunks[0]!.subarray(0, bytes);
  }

  private consume(bytes: number): Uint8Array {
    const all = this.chunks.length === 1 ? this.chunks[0]! : concat(this.chunks, this.buffered);
    const taken = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return taken;
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
