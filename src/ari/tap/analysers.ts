// Where a tap's audio is analysed: in this process (CpaSession), or on a CPA server (cpa.serviceUrl)
// through the same client a dialer uses, falling back to this process when that server cannot be
// reached or the connection is lost mid-call (the audio so far is replayed, nothing is heard twice).
import { CpaSession, liveParams, type CpaEvent, type CpaParams } from '../../cpa';
import { RemoteCpaSession } from '../../cpa-server/client';
import type { CpaResult } from '../../cpa-server/server';
import { engineEvent } from '../../cpa-server/protocol';
import type { Logger } from '../../log';

export interface Analyser {
  push(pcm: Int16Array): void;
  /** No more audio: the last events are delivered (awaited for a remote one, bounded). */
  end(): Promise<void>;
  /** A break event or total_timeout ended the analysis. */
  readonly done: boolean;
}

export function localAnalyser(params: CpaParams, rate: 8000 | 16000, onEvents: (e: CpaEvent[]) => void): Analyser {
  const session = new CpaSession(liveParams(params), rate);
  return {
    push: (pcm) => onEvents(session.push(pcm)),
    end: async () => onEvents(session.end()),
    get done() {
      return session.done;
    },
  };
}

export interface RemoteOptions {
  url: string;
  /** tenant/name of the configuration on the server. */
  config: string;
  callUuid: string;
  params: CpaParams;
  rate: 8000 | 16000;
  log: Logger;
}

export function remoteAnalyser(o: RemoteOptions, onEvents: (e: CpaEvent[]) => void): Analyser {
  const [tenant, ...rest] = o.config.split('/');
  const heard: Int16Array[] = [];
  let remote: RemoteCpaSession | undefined;
  let local: Analyser | undefined;
  let lastAt = -1;
  let broke = false;
  let ending = false;

  const fallBack = (why: string) => {
    if (local) return;
    o.log.warn({ cpaService: o.url, why }, 'CPA service unavailable for this call: analysing it in this process');
    // Replay what was heard; events the server already reported are not reported again.
    local = localAnalyser(o.params, o.rate, (events) => onEvents(events.filter((e) => e.at_ms > lastAt)));
    for (const pcm of heard) local.push(pcm);
    heard.length = 0;
  };

  const opening = RemoteCpaSession.open({
    url: o.url,
    tenant: tenant!,
    config: rest.join('/'),
    sampleRate: o.rate,
    callUuid: o.callUuid,
    timeoutMs: 2000,
  }).then(
    (s) => {
      if (local) return s.terminate();
      remote = s;
      s.on('result', (r: CpaResult) => {
        lastAt = Math.max(lastAt, r.at_ms);
        if (r.break) broke = true;
        onEvents([engineEvent(r)]);
      });
      s.on('close', ({ lost }: { lost: boolean }) => {
        if (lost && !ending) fallBack('connection lost');
      });
      for (const pcm of heard) s.push(pcm);
    },
    (e: unknown) => fallBack((e as Error).message),
  );

  return {
    push(pcm) {
      if (local) return local.push(pcm);
      heard.push(pcm); // kept for a fallback until the call ends (at most total_timeout of audio)
      remote?.push(pcm);
    },
    async end() {
      ending = true;
      await opening;
      if (local) return local.end();
      if (remote) {
        remote.stop();
        await remote.closed(2000);
      }
    },
    get done() {
      return local ? local.done : broke;
    },
  };
}
