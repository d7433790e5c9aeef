import { esc } from './html';

export interface TimelineEvent {
  result: string;
  at_ms: number;
  digit?: string;
  freq_hz?: number;
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

/** An SVG strip 0..duration with a clickable mark per event (data-seek = seconds) and a playhead. */
export function timelineSvg(placed: PlacedEvent[], durationMs: number, answerSec: number | undefined): string {
  const dur = Math.max(durationMs / 1000, 0.001);
  const x = (sec: number) => ((sec / dur) * 1000).toFixed(1);
  const marks = placed
    .map((e, i) => {
      const cls = CLASS[e.result] ?? 'other';
      const y = 14 + (i % 3) * 14;
      return `<g class="mark ${cls}" data-seek="${e.atSec}" data-result="${esc(e.result)}"><title>${esc(e.label)} at ${mmss(e.atSec)}${e.cause ? ` - ${esc(e.cause)}` : ''}</title><line x1="${x(e.atSec)}" x2="${x(e.atSec)}" y1="8" y2="52" stroke="${COLOR[cls]}" stroke-width="3"/><text x="${x(e.atSec)}" y="${y}" dx="4">${esc(e.label)}</text></g>`;
    })
    .join('');
  const answer =
    answerSec !== undefined
      ? `<g><line x1="${x(answerSec)}" x2="${x(answerSec)}" y1="52" y2="64" stroke="#1d2330"/><text x="${x(answerSec)}" y="66" dx="3">answer</text></g>`
      : '';
  return `<svg viewBox="0 0 1000 70" role="img" aria-label="what the call progress analysis heard"><line class="axis" x1="0" x2="1000" y1="52" y2="52"/>${answer}${marks}<line class="playhead" x1="0" x2="0" y1="4" y2="56"/></svg>`;
}
