export { FastAgiServer, type AgiCall, type AgiScript, type FastAgiOptions, type FastAgiStats } from './fastagi-server';
export { AgiProtocolError, parseEnvLine, parseReply, quoteArg, scriptOf, argsOf, type AgiEnvironment, type AgiReply } from './protocol';
export { recordingDone } from './recording-done';
