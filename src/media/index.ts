export { parseWav, encodeWav, AudioFormatError } from './wav';
export type { Pcm, WavInfo } from './wav';
export { decodeUlaw, decodeAlaw, encodeUlaw, linearToUlaw, ULAW_TO_PCM, ALAW_TO_PCM } from './g711';
export { readAudioFile } from './audio-file';
