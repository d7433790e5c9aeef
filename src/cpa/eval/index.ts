export { analyseFile } from './analyse-file';
export { evaluateManifest, formatReport, scoreCase, summarise, pct } from './score';
export type { Report, CaseResult, ManifestCase } from './score';
