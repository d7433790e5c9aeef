// 16 kHz -> 8 kHz: a 31-tap windowed-sinc low-pass at 3.8 kHz, then every second sample. Keeps its own
// history so frames of any size (odd ones too) can be pushed.
const TAPS = 31;
const CUTOFF = 3800 / 16000;
const H = Float64Array.from({ length: TAPS }, (_, i) => {
  const m = i - (TAPS - 1) / 2;
  const sinc = m === 0 ? 2 * CUTOFF : Math.sin(2 * Math.PI * CUTOFF * m) / (Math.PI * m);
  const w = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (TAPS - 1));
  return sinc * w;
});
const GAIN = H.reduce((a, b) => a + b, 0);
for (let i = 0; i < TAPS; i++) H[i] = H[i]! / GAIN;

export class HalfbandDecimator {
  private readonly hist = new Float64Array(TAPS);
  private pos = 0;
  private phase = 0;

  process(x: Int16Array): Float64Array {
    const out = new Float64Array((x.length + 1 - this.phase) >> 1);
    let o = 0;
    for (let i = 0; i < x.length; i++) {
      this.hist[this.pos] = x[i]!;
      this.pos = (this.pos + 1) % TAPS;
      if (this.phase === 0) {
        let acc = 0;
        for (let k = 0, j = this.pos; k < TAPS; k++, j = j + 1 === TAPS ? 0 : j + 1) acc += H[k]! * this.hist[j]!;
        out[o++] = acc;
      }
      this.phase ^= 1;
    }
    return o === out.length ? out : out.subarray(0, o);
  }
}
