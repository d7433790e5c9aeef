import type { Request } from 'express';
import { DECISION_CODES } from '../cpa';
import {
  ANI_PATTERN,
  DNIS_PATTERN,
  USERNAME,
  RECORDING_SOURCES as SOURCES,
  type Recording,
  type RecordingQuery,
  type RecordingSource,
} from '../recordings';
import { esc } from './html';

// The recordings search: every field checked (the error names the field and what it accepts), keyset paging
// (a cursor from the last row shown, so page 2,000 costs what page 1 costs), sorting by date or length.

export const PAGE_SIZE = 50;
const FIELDS = ['ani', 'dnis', 'from', 'to', 'cpa', 'source', 'min', 'max', 'delivery', 'agent', 'sort', 'after'] as const;
const DELIVERY = ['pending', 'failing', 'delivered', 'dead'] as const;

export class BadSearch extends Error {}

export interface Search {
  query: RecordingQuery;
  form: Record<string, string>;
  /** The agent whose extensions were asked for (resolved by the caller). */
  agent?: string;
}

export function searchQuery(q: Request['query']): Search {
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (!(FIELDS as readonly string[]).includes(k)) throw new BadSearch(`unknown search field '${k}'`);
    if (typeof v !== 'string') throw new BadSearch(`${k}: give it once`);
    form[k] = v.trim();
  }
  const query: RecordingQuery = { limit: PAGE_SIZE + 1 };
  const phone = (k: 'ani' | 'dnis') => {
    const v = form[k];
    if (!v) return;
    if (!(k === 'ani' ? ANI_PATTERN : DNIS_PATTERN).test(v))
      throw new BadSearch(`${k}: ${k === 'ani' ? 'digits or letters' : 'digits'} (and + * #), up to 32`);
    query[k] = v;
  };
  phone('ani');
  phone('dnis');
  for (const [k, key, add] of [
    ['from', 'since', 0],
    ['to', 'until', 86_400_000],
  ] as const) {
    const v = form[k];
    if (!v) continue;
    // Date.parse takes 2026-02-31 for March 3rd: only a date that comes back as itself is one.
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== v) throw new BadSearch(`${k}: a date as YYYY-MM-DD`);
    query[key] = new Date(ms + add).toISOString();
  }
  if (form.cpa) {
    if (!DECISION_CODES.includes(form.cpa)) throw new BadSearch(`cpa: one of ${DECISION_CODES.join(', ')}`);
    query.cpaResult = form.cpa;
  }
  if (form.source) {
    if (!SOURCES.includes(form.source as RecordingSource)) throw new BadSearch(`source: one of ${SOURCES.join(', ')}`);
    query.source = form.source as RecordingSource;
  }
  for (const [k, key] of [
    ['min', 'minDurationMs'],
    ['max', 'maxDurationMs'],
  ] as const) {
    const v = form[k];
    if (!v) continue;
    const sec = /^\d{1,6}(\.\d{1,3})?$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(sec)) throw new BadSearch(`${k}: a length in seconds (e.g. 30 or 2.5)`);
    query[key] = Math.round(sec * 1000);
  }
  if (form.delivery) {
    if (!(DELIVERY as readonly string[]).includes(form.delivery)) throw new BadSearch(`delivery: one of ${DELIVERY.join(', ')}`);
    query.delivery = form.delivery as (typeof DELIVERY)[number];
  }
  if (form.sort) {
    if (form.sort !== 'date' && form.sort !== 'duration') throw new BadSearch('sort: date or duration');
    query.sort = form.sort;
  }
  if (form.after) query.after = readCursor(form.after, query.sort ?? 'date');
  let agent: string | undefined;
  if (form.agent) {
    if (!USERNAME.test(form.agent)) throw new BadSearch('agent: a user name');
    agent = form.agent;
  }
  return { query, form, agent };
}

/** A cursor is the last row's sort key and id, base64url'd: opaque to users, checked when it comes back. */
export function cursorOf(r: Recording, sort: 'date' | 'duration'): string {
  return Buffer.from(JSON.stringify([sort === 'duration' ? r.durationMs : r.createdAt, r.id])).toString('base64url');
}

function readCursor(text: string, sort: 'date' | 'duration'): { key: string | number; id: string } {
  try {
    const [key, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    const keyOk = sort === 'duration' ? Number.isInteger(key) : typeof key === 'string' && key.length <= 40;
    if (keyOk && typeof id === 'string' && /^rec_[A-Za-z0-9_-]{1,40}$/.test(id)) return { key: key as string | number, id };
  } catch {
    // falls through to the error
  }
  throw new BadSearch('after: not a page cursor of this sort (use the links)');
}

export function searchForm(f: Record<string, string>, agents?: string[]): string {
  const opt = (list: readonly string[], cur: string | undefined, any = 'any') =>
    ['', ...list].map((v) => `<option value="${esc(v)}"${v === (cur ?? '') ? ' selected' : ''}>${v ? esc(v) : any}</option>`).join('');
  return `<form class="search" method="get" action="/recordings">
<label>ANI (caller)<input name="ani" value="${esc(f.ani)}" inputmode="tel"></label>
<label>DNIS (dialled)<input name="dnis" value="${esc(f.dnis)}" inputmode="tel"></label>
<label>From (UTC)<input name="from" type="date" value="${esc(f.from)}"></label>
<label>To (UTC)<input name="to" type="date" value="${esc(f.to)}"></label>
<label>CPA result<select name="cpa">${opt(DECISION_CODES, f.cpa)}</select></label>
<label>Source<select name="source">${opt(SOURCES, f.source)}</select></label>
<label>Longer than (s)<input name="min" value="${esc(f.min)}" inputmode="decimal" size="5"></label>
<label>Shorter than (s)<input name="max" value="${esc(f.max)}" inputmode="decimal" size="5"></label>
<label>Delivery<select name="delivery">${opt(DELIVERY, f.delivery)}</select></label>
${agents ? `<label>Agent<select name="agent">${opt(agents, f.agent)}</select></label>` : ''}
<label>Sort<select name="sort"><option value="date"${f.sort !== 'duration' ? ' selected' : ''}>newest first</option><option value="duration"${f.sort === 'duration' ? ' selected' : ''}>longest first</option></select></label>
<button class="primary" type="submit">Search</button></form>`;
}
