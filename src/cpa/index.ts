export { CpaSession } from './session';
export type { CpaEvent } from './session';
export { resolveParams, liveParams, DEFAULT_PARAMS, CpaParamError, RESULT_CODES, DECISION_CODES, VOXEO_RESULT } from './params';
export type { CpaParams, ResultCode, ToneSpec } from './params';
