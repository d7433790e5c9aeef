export { amiAction, amiList, AmiError } from './ami-client';
export type { AmiOptions, AmiMessage } from './ami-client';
