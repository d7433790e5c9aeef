// Real FFT of a fixed power-of-two size through one complex FFT of half the size (the usual packing
// trick), so a 256-point spectrum costs a 128-point complex transform. Tables are built once per size.

export class RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint16Array;
  private readonly splitCos: Float64Array;
  private readonly splitSin: Float64Array;

  constructor(size: number) {
    if (size < 8 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two >= 8, got ${size}`);
    this.size = size;
    const h = (this.half = size >> 1);
    this.re = new Float64Array(h);
    this.im = new Float64Array(h);
    this.cos = new Float64Array(h >> 1);
    this.sin = new Float64Array(h >> 1);
    for (let i = 0; i < h >> 1; i++) {
      this.cos[i] = Math.cos((-2 * Math.PI * i) / h);
      this.sin[i] = Math.sin((-2 * Math.PI * i) / h);
    }
    this.rev = new Uint16Array(h);
    const bits = Math.log2(h);
    for (let i = 0; i < h; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.splitCos = new Float64Array(h);
    this.splitSin = new Float64Array(h);
    for (let k = 0; k < h; k++) {
      this.splitCos[k] = Math.cos((-2 * Math.PI * k) / size);
      this.splitSin[k] = Math.sin((-2 * Math.PI * k) / size);
    }
  }

  /** Power spectrum |X[k]|^2 for k = 0..size/2 (size/2 + 1 values) of real input x (length size). */
  power(x: Float64Array, out: Float64Array): void {
    const h = this.half;
    const re = this.re;
    const im = this.im;
    const rev = this.rev;
    for (let i = 0; i < h; i++) {
      const j = rev[i]!;
      re[j] = x[2 * i]!;
      im[j] = x[2 * i + 1]!;
    }
    // Radix-2 stages; the first (twiddle 1) is done without multiplications.
    for (let a = 0; a < h; a += 2) {
      const b = a + 1;
      const tr = re[b]!;
      const ti = im[b]!;
      re[b] = re[a]! - tr;
      im[b] = im[a]! - ti;
      re[a] = re[a]! + tr;
      im[a] = im[a]! + ti;
    }
    const cos = this.cos;
    const sin = this.sin;
    for (let len = 4; len <= h; len <<= 1) {
      const halfLen = len >> 1;
      const step = h / len;
      for (let k = 0, t = 0; k < halfLen; k++, t += step) {
        const wr = cos[t]!;
        const wi = sin[t]!;
        for (let a = k; a < h; a += len) {
          const b = a + halfLen;
          const br = re[b]!;
          const bi = im[b]!;
          const tr = br * wr - bi * wi;
          const ti = br * wi + bi * wr;
          const ar = re[a]!;
          const ai = im[a]!;
          re[b] = ar - tr;
          im[b] = ai - ti;
          re[a] = ar + tr;
          im[a] = ai + ti;
        }
      }
    }
    // Split the packed transform into the spectrum of the real sequence.
    out[0] = (re[0]! + im[0]!) ** 2;
    out[h] = (re[0]! - im[0]!) ** 2;
    for (let k = 1; k < h; k++) {
      const ar = re[k]!;
      const ai = im[k]!;
      const br = re[h - k]!;
      const bi = -im[h - k]!;
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const or = 0.5 * (ai - bi);
      const oi = -0.5 * (ar - br);
      const wr = this.splitCos[k]!;
      const wi = this.splitSin[k]!;
      const xr = er + (or * wr - oi * wi);
      const xi = ei + (or * wi + oi * wr);
      out[k] = xr * xr + xi * xi;
    }
  }
}
