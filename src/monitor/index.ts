export {
  ConnectivityMonitor,
  humanDuration,
  restoredMail,
  type Target,
  type TargetKind,
  type TargetStatus,
  type MonitorOptions,
} from './monitor';
export { tcpProbe, smtpProbe, sipOptionsProbe, httpProbe, pingProbe, type Probe } from './probes';
export { monitorTargets, type MonitorConfig } from './targets';
export { startMonitor, startMonitorFor, type MonitorSettings } from './start';
