// G.711 mu-law and A-law decoding (ITU-T G.711), by lookup table: one array read per sample on the
// RTP hot path. Tables are built once at load from the reference bit manipulation.

function ulawToLinear(u: number): number {
  u = ~u & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  let sample = ((mantissa << 3) + 0x84) << exponent;
  sample -= 0x84;
  return sign ? -sample : sample;
}

function alawToLinear(a: number): number {
  a ^= 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const sample = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return sign ? sample : -sample;
}

export const ULAW_TO_PCM = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));
export const ALAW_TO_PCM = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

export function decodeUlaw(src: Uint8Array, dst: Int16Array = new Int16Array(src.length)): Int16Array {
  for (let i = 0; i < src.length; i++) dst[i] = ULAW_TO_PCM[src[i]!]!;
  return dst;
}

export function decodeAlaw(src: Uint8Array, dst: Int16Array = new Int16Array(src.length)): Int16Array {
  for (let i = 0; i < src.length; i++) dst[i] = ALAW_TO_PCM[src[i]!]!;
  return dst;
}

/** Linear PCM16 to mu-law (for generating test signals and for sending audio back). */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  const sign = (sample >> 8) & 0x80;
  if (sign) sample = -sample;
  if (sample > CLIP) sample = CLIP;
  sample += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (sample & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (sample >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function encodeUlaw(src: Int16Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = linearToUlaw(src[i]!);
  return out;
}
