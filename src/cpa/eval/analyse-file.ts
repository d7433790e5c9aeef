import { CpaSession, type CpaEvent } from '..';
import { readAudioFile, AudioFormatError } from '../../media';

/** Runs a recording through a CPA session in 20 ms frames, as RTP would deliver it. */
export function analyseFile(path: string, params: Record<string, unknown>): CpaEvent[] {
  const pcm = readAudioFile(path);
  if (pcm.sampleRate !== 8000 && pcm.sampleRate !== 16000) {
    throw new AudioFormatError(`${path}: ${pcm.sampleRate} Hz audio; the engine takes 8000 or 16000 Hz`);
  }
  const session = new CpaSession(params, pcm.sampleRate);
  const frame = pcm.sampleRate / 50;
  const events: CpaEvent[] = [];
  for (let i = 0; i < pcm.samples.length && !session.done; i += frame) events.push(...session.push(pcm.samples.subarray(i, i + frame)));
  events.push(...session.end());
  return events;
}
