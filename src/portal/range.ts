// HTTP Range (RFC 9110 section 14) for audio playback: browsers ask for the first bytes, then seek. One range
// per request is all players use; several ranges are answered with the whole file, as the RFC allows.

export type RangeResult = { kind: 'whole' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'whole' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return { kind: 'whole' }; // other units, several ranges or garbage: ignore the header
  const [, a, b] = m;
  if (a === '' && b === '') return { kind: 'whole' };
  if (size === 0) return { kind: 'unsatisfiable' };
  let start: number;
  let end: number;
  if (a === '') {
    // the last N bytes
    const n = Number(b);
    if (n === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    if (b !== '' && Number(b) < start) return { kind: 'whole' }; // an invalid range is ignored (RFC 9110 14.1.1)
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (start >= size) return { kind: 'unsatisfiable' };
  }
  return { kind: 'partial', start, end };
}
