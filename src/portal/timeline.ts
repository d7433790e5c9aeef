import { esc } from './html';

export interface TimelineEvent {
  result: string;
  at_ms: number;
  digit?: string;
  freq_hz?: number;
  duration_ms?: number;
  cause?: string;
}

/** A CPA event where it happened in the recording, in seconds. */
export interface PlacedEvent extends TimelineEvent {
  atSec: number;
  label: string;
}

const CLASS: Record<string, string> = { LV: 'lv', AM: 'am', BP: 'bp', FX: 'tone', MD: 'tone', SIT: 'tone', DTMF: 'dtmf' };
const COLOR: Record<string, string> = { lv: '#2e8b57', am: '#d9822b', bp: '#c0392b', tone: '#8e44ad', dtmf: '#2456c7', other: '#667' };

/**
 * The engine counts from the callee's answer; the recording starts when the call entered the dialplan. The
 * offset between the two is the answer's time in the recording.
 */
export function placeEvents(events: unknown[], offsetMs: number, durationMs: number): PlacedEvent[] {
  const out: PlacedEvent[] = [];
  for (const e of events) {
    if (!e || typeof e !== 'object') continue;
    const ev = e as TimelineEvent;
    if (typeof ev.result !== 'string' || typeof ev.at_ms !== 'number' || !Number.isFinite(ev.at_ms)) continue;
    const atMs = Math.min(Math.max(offsetMs + ev.at_ms, 0), durationMs);
    const label =
      ev.result === 'DTMF' && ev.digit ? `DTMF ${ev.digit}` : ev.result === 'BP' && ev.freq_hz ? `BP ${ev.freq_hz} Hz` : ev.result;
    out.push({ ...ev, atSec: Math.round(atMs) / 1000, label });
  }
  return out.sort((a, b) => a.atSec - b.atSec);
}

export function mmss(sec: number): string {
  const s = Math.max(0, sec);
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}`;
}

/**
 * The call picture: the recording's level over time (one band per channel: a two-leg file shows both legs),
 * with what the CPA heard drawn on it (a clickable mark per event, data-seek = seconds; beeps and tones as the
 * stretch they lasted), the answer, and a playhead. Clicking anywhere seeks there (portal.js).
 */
export function timelineSvg(
  placed: PlacedEvent[],
  durationMs: number,
  answerSec: number | undefined,
  picture?: { binMs: number; levels: number[][] },
): string {
  const dur = Math.max(durationMs / 1000, 0.001);
  const x = (sec: number) => ((Math.min(Math.max(sec, 0), dur) / dur) * 1000).toFixed(1);
  const AXIS = 72;
  const legs = picture?.levels.slice(0, 2) ?? [];
  const bandH = legs.length === 2 ? 30 : 60;
  const level = legs
    .map((bins, c) => {
      const base = c === 0 ? (legs.length === 2 ? 36 : AXIS - 4) : AXIS - 4;
      const pts = bins.map((db, i) => {
        const h = (Math.min(Math.max((db + 60) / 60, 0), 1) * bandH).toFixed(1);
        return `${x((i * picture!.binMs) / 1000)},${(base - Number(h)).toFixed(1)} ${x(((i + 1) * picture!.binMs) / 1000)},${(base - Number(h)).toFixed(1)}`;
      });
      return `<polygon class="level${c ? ' leg2' : ''}" points="0,${base} ${pts.join(' ')} 1000,${base}"><title>${legs.length === 2 ? `leg ${c + 1} ` : ''}level</title></polygon>`;
    })
    .join('');
  const spans = placed
    .filter((e) => (e.result === 'BP' || CLASS[e.result] === 'tone') && typeof e.duration_ms === 'number' && e.duration_ms > 0)
    .map((e) => {
      const from = e.result === 'BP' ? e.atSec - e.duration_ms! / 1000 : e.atSec;
      const to = e.result === 'BP' ? e.atSec : e.atSec + e.duration_ms! / 1000;
      const w = Math.max(2, Number(x(to)) - Number(x(from)));
      return `<rect class="beep" x="${x(from)}" y="4" width="${w.toFixed(1)}" height="${AXIS - 4}"/>`;
    })
    .join('');
  const marks = placed
    .map((e, i) => {
      const cls = CLASS[e.result] ?? 'other';
      const y = 14 + (i % 3) * 14;
      return `<g class="mark ${cls}" data-seek="${e.atSec}" data-result="${esc(e.result)}"><title>${esc(e.label)} at ${mmss(e.atSec)}${e.cause ? ` - ${esc(e.cause)}` : ''}</title><rect x="${(Number(x(e.atSec)) - 4).toFixed(1)}" y="4" width="${10 + e.label.length * 7}" height="${AXIS - 4}" fill="transparent"/><line x1="${x(e.atSec)}" x2="${x(e.atSec)}" y1="4" y2="${AXIS}" stroke="${COLOR[cls]}" stroke-width="3"/><text x="${x(e.atSec)}" y="${y}" dx="4">${esc(e.label)}</text></g>`;
    })
    .join('');
  const answer =
    answerSec !== undefined
      ? `<g><line x1="${x(answerSec)}" x2="${x(answerSec)}" y1="${AXIS}" y2="${AXIS + 12}" stroke="#1d2330"/><text x="${x(answerSec)}" y="${AXIS + 14}" dx="3">answer</text></g>`
      : '';
  return `<svg class="picture" viewBox="0 0 1000 ${AXIS + 18}" role="img" aria-label="the call's level over time and what the call progress analysis heard">${level}${spans}<line class="axis" x1="0" x2="1000" y1="${AXIS}" y2="${AXIS}"/>${answer}${marks}<line class="playhead" x1="0" x2="0" y1="2" y2="${AXIS + 4}"/></svg>`;
}
