// Every ARI object a call creates gets an id derived from the caller's channel id (its uniqueid): events
// route back to their call by id alone, and whatever a call left behind can be traced to it.

const SUFFIX = {
  callee: '-callee',
  calleeOther: '-callee;2', // the far half of a Local channel
  bridge: '-bridge',
  ringback: '-ringback',
  snoop: '-snoop',
  tapMedia: '-tapmedia',
  tapBridge: '-tapbridge',
  liveTone: '-cpa-tone',
  drop: '-drop',
} as const;

export type CallIds = { caller: string } & Record<keyof typeof SUFFIX, string>;

export function callIds(caller: string): CallIds {
  const ids = { caller } as CallIds;
  for (const [k, s] of Object.entries(SUFFIX)) ids[k as keyof typeof SUFFIX] = `${caller}${s}`;
  return ids;
}

/** The caller id an id of ours was derived from; undefined for any other id (a caller's own channel). */
export function callerOf(id: string): string | undefined {
  for (const s of Object.values(SUFFIX)) if (id.endsWith(s)) return id.slice(0, -s.length);
  return undefined;
}

/** Stasis arguments of the channels we create (the caller's id follows). */
export const CALLEE_ARG = 'dc-callee';
export const SNOOP_ARG = 'dc-snoop';
