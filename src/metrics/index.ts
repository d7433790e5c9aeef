export { Metrics, watchCalls, type MetricSources } from './metrics';
export { readiness, type ReadinessSources } from './readiness';
