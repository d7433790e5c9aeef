/** RMS of each window of `windowMs`. */
export function windowRms(samples: Int16Array, sampleRate: number, windowMs = 100): number[] {
  const n = Math.floor((sampleRate * windowMs) / 1000);
  const out: number[] = [];
  for (let i = 0; i + n <= samples.length; i += n) {
    let e = 0;
    for (let j = i; j < i + n; j++) e += samples[j]! * samples[j]!;
    out.push(Math.sqrt(e / n));
  }
  return out;
}

/** Loudest window against the quietest tenth of windows: how far sound stands above the line's floor. */
export function peakOverFloorDb(samples: Int16Array, sampleRate: number): number {
  const rms = windowRms(samples, sampleRate).sort((a, b) => a - b);
  const floor = Math.max(1, rms[Math.floor(rms.length * 0.1)] ?? 1);
  const peak = rms[rms.length - 1] ?? 0;
  return 20 * Math.log10(Math.max(peak, 1) / floor);
}
