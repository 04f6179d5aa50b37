import { crc32 } from "node:zlib";
import type { Fs } from "./fs.ts";

/**
 * Every state and metadata file is framed with its payload length and CRC32, so a torn write
 * (short file), a flipped bit or a foreign file is detected on read rather than restored as
 * wrong state. Two layouts, told apart by the magic:
 * - "FLNCHST1": header (magic, u32 length, u32 CRC), then the payload: for payloads built whole.
 * - "FLNCHST2": magic, the payload, then a trailer ("FLNE", u32 length high, u32 length low,
 *   u32 CRC): for payloads streamed in chunks, whose length and CRC are known only at the end.
 */
const MAGIC = new Uint8Array([0x46, 0x4c, 0x4e, 0x43, 0x48, 0x53, 0x54, 0x31]); // "FLNCHST1"
const MAGIC_STREAMED = new Uint8Array([0x46, 0x4c, 0x4e, 0x43, 0x48, 0x53, 0x54, 0x32]); // "FLNCHST2"
const END = new Uint8Array([0x46, 0x4c, 0x4e, 0x45]); // "FLNE"
const HEADER = MAGIC.length + 8;
const TRAILER = 16;

export class CorruptFrameError extends Error {
  override readonly name = "CorruptFrameError";
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
  }
}

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(MAGIC.length, payload.length);
  dv.setUint32(MAGIC.length + 4, crc32(payload));
  out.set(payload, HEADER);
  return out;
}

function trailer(out: Uint8Array, at: number, length: number, crc: number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(END, at);
  dv.setUint32(at + 4, Math.floor(length / 2 ** 32));
  dv.setUint32(at + 8, length >>> 0);
  dv.setUint32(at + 12, crc);
}

/**
 * Writes a streamed frame through `Fs`, chunk by chunk, with the CRC updated per chunk. A payload
 * that arrives as one last chunk is one writeFile; a longer one is a writeFile and appends. Nothing
 * is durable until the caller fsyncs.
 */
export class FrameStreamWriter {
  private crc = 0;
  private length = 0;
  private started = false;

  constructor(private readonly fs: Fs, private readonly path: string) {}

  /** Bytes in the file once the last chunk is written. */
  get fileBytes(): number {
    return MAGIC_STREAMED.length + this.length + TRAILER;
  }

  /** A ChunkSink (binary-writer.ts). */
  readonly write = (chunk: Uint8Array, last: boolean): void => {
    this.crc = crc32(chunk, this.crc);
    this.length += chunk.length;
    const head = this.started ? 0 : MAGIC_STREAMED.length;
    if (!last && this.started) return this.fs.appendFile(this.path, chunk);
    const out = new Uint8Array(head + chunk.length + (last ? TRAILER : 0));
    if (head) out.set(MAGIC_STREAMED, 0);
    out.set(chunk, head);
    if (last) trailer(out, head + chunk.length, this.length, this.crc);
    if (this.started) this.fs.appendFile(this.path, out);
    else this.fs.writeFile(this.path, out);
    this.started = true;
  };
}

/** The payload of a framed file (either layout), or CorruptFrameError naming what is wrong. */
export function unframe(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < HEADER) throw new CorruptFrameError(file, `truncated: ${bytes.length} bytes, shorter than the ${HEADER}-byte header`);
  const streamed = startsWith(bytes, MAGIC_STREAMED);
  if (!streamed && !startsWith(bytes, MAGIC)) throw new CorruptFrameError(file, "bad magic: not a flinch state file");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let payload: Uint8Array;
  let crc: number;
  if (streamed) {
    if (bytes.length < MAGIC_STREAMED.length + TRAILER) throw new CorruptFrameError(file, `truncated: ${bytes.length} bytes, shorter than magic and trailer`);
    const t = bytes.length - TRAILER;
    for (let i = 0; i < END.length; i++) if (bytes[t + i] !== END[i]) throw new CorruptFrameError(file, "truncated or damaged: no end-of-frame trailer (a torn or unfinished write)");
    const len = dv.getUint32(t + 4) * 2 ** 32 + dv.getUint32(t + 8);
    if (len !== t - MAGIC_STREAMED.length) throw new CorruptFrameError(file, `length mismatch: trailer says ${len} payload bytes, file has ${t - MAGIC_STREAMED.length}`);
    crc = dv.getUint32(t + 12);
    payload = bytes.subarray(MAGIC_STREAMED.length, t);
  } else {
    const len = dv.getUint32(MAGIC.length);
    crc = dv.getUint32(MAGIC.length + 4);
    if (bytes.length !== HEADER + len) throw new CorruptFrameError(file, `length mismatch: header says ${len} payload bytes, file has ${bytes.length - HEADER}`);
    payload = bytes.subarray(HEADER);
  }
  const actual = crc32(payload);
  if (actual !== crc) throw new CorruptFrameError(file, `CRC32 mismatch: stored ${crc.toString(16)}, computed ${actual.toString(16)}`);
  return payload;
}

function startsWith(bytes: Uint8Array, magic: Uint8Array): boolean {
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}
