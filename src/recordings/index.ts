export { checkClosedWav, waitForClosedWav } from './closed-wav';
export type { ClosedWav } from './closed-wav';
