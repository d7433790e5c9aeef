import { RealFft } from '../../src/cpa/dsp/fft';
import { HalfbandDecimator } from '../../src/cpa/dsp/decimate';

test('real FFT power spectrum equals a direct DFT', () => {
  const n = 256;
  const fft = new RealFft(n);
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.3) + 0.5 * Math.cos(i * 1.1) + ((i * 7919) % 13) / 13);
  const out = new Float64Array(n / 2 + 1);
  fft.power(x, out);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      re += x[t]! * Math.cos((2 * Math.PI * k * t) / n);
      im -= x[t]! * Math.sin((2 * Math.PI * k * t) / n);
    }
    expect(Math.abs(out[k]! - (re * re + im * im))).toBeLessThan(1e-6 * (1 + re * re + im * im));
  }
  expect(() => new RealFft(100)).toThrow(/power of two/);
});

test('16 kHz -> 8 kHz keeps the telephone band and removes what would alias', () => {
  const d = new HalfbandDecimator();
  const rms = (f: number) => {
    const x = Int16Array.from({ length: 16000 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * f * i) / 16000)));
    // odd chunk sizes: the filter keeps its state across pushes
    const parts: Float64Array[] = [];
    for (let i = 0; i < x.length; i += 333) parts.push(d.process(x.subarray(i, i + 333)));
    const y = parts.flatMap((p) => Array.from(p)).slice(100);
    return Math.sqrt(y.reduce((s, v) => s + v * v, 0) / y.length);
  };
  expect(rms(1000) / (10000 / Math.SQRT2)).toBeGreaterThan(0.95);
  expect(rms(3000) / (10000 / Math.SQRT2)).toBeGreaterThan(0.9);
  expect(rms(6000) / (10000 / Math.SQRT2)).toBeLessThan(0.05);
});
