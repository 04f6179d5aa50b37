import { crc32 } from "node:zlib";

/**
 * Every state and metadata file is framed: magic, payload length, CRC32, payload. A torn
 * write (short file), a flipped bit or a foreign file is detected on read rather than
 * restored as wrong state.
 */
const MAGIC = new Uint8Array([0x46, 0x4c, 0x4e, 0x43, 0x48, 0x53, 0x54, 0x31]); // "FLNCHST1"
const HEADER = MAGIC.length + 8;

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

export function unframe(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < HEADER) throw new CorruptFrameError(file, `truncated: ${bytes.length} bytes, shorter than the ${HEADER}-byte header`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new CorruptFrameError(file, "bad magic: not a flinch state file");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = dv.getUint32(MAGIC.length);
  const crc = dv.getUint32(MAGIC.length + 4);
  if (bytes.length !== HEADER + len) throw new CorruptFrameError(file, `length mismatch: header says ${len} payload bytes, file has ${bytes.length - HEADER}`);
  const payload = bytes.subarray(HEADER);
  const actual = crc32(payload);
  if (actual !== crc) throw new CorruptFrameError(file, `CRC32 mismatch: stored ${crc.toString(16)}, computed ${actual.toString(16)}`);
  return payload;
}
