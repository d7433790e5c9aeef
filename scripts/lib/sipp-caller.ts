import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeUlaw } from '../../src/media';

export interface SippCall {
  /** What the caller dials, e.g. *1234175551234. */
  dial: string;
  ani?: string;
  /** How long the caller stays after the answer before sending BYE (unless the far side hangs up first). */
  talkMs: number;
  calls?: number;
  concurrent?: number;
  /** New calls per second. */
  rate?: number;
  localPort?: number;
  /** The Asterisk to call (host:port); the sandbox by default. */
  remote?: string;
  timeoutSec?: number;
  /** Keys the caller presses (SIP INFO, application/dtmf-relay), at times after the answer. */
  dtmf?: { atMs: number; digits: string }[];
}

export interface SippResult {
  code: number;
  successful: number;
  failed: number;
  errors: string;
}

// A UAC that answers a BYE from the far side as well as sending its own after talkMs.
function scenario(c: SippCall & { audioFile: string }): string {
  const ani = c.ani ?? '2125550100';
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="dialplan-companion caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Agent" <sip:${ani}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:${ani}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=agent 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [rtpstream_audio_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Agent" <sip:${ani}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:${ani}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <nop><action><exec rtp_stream="${c.audioFile},-1,0"/></action></nop>
${dtmfSteps(c, ani)}
  <recv request="BYE" timeout="${Math.max(1, c.talkMs - Math.max(0, ...(c.dtmf ?? []).map((d) => d.atMs + 300 * d.digits.length)))}" ontimeout="hangup"/>
  <send next="done"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
  <label id="hangup"/>
  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Agent" <sip:${ani}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 100 BYE
Contact: <sip:${ani}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true"/>
  <label id="done"/>
</scenario>
`;
}

function dtmfSteps(c: SippCall, ani: string): string {
  let t = 0;
  let cseq = 10;
  const out: string[] = [];
  for (const step of c.dtmf ?? []) {
    if (step.atMs > t) out.push(`  <pause milliseconds="${step.atMs - t}"/>`);
    t = Math.max(t, step.atMs);
    for (const d of step.digits) {
      out.push(`  <send><![CDATA[
INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Agent" <sip:${ani}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq++} INFO
Contact: <sip:${ani}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=${d}
Duration=160
]]></send>
  <recv response="200"/>
  <pause milliseconds="300"/>`);
      t += 300;
    }
  }
  return out.join('\n');
}

/** Places calls into the sandbox Asterisk (127.0.0.1:5060) with sipp and waits for it to finish. */
export async function runSipp(c: SippCall): Promise<SippResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-sipp-'));
  const file = join(dir, 'uac.xml');
  // A real phone sends RTP all the time (room noise when the agent is quiet): loop 10 s of quiet noise.
  const audioFile = join(dir, 'agent-room.ul');
  writeFileSync(audioFile, encodeUlaw(Int16Array.from({ length: 80000 }, () => Math.round((Math.random() - 0.5) * 120))));
  writeFileSync(file, scenario({ ...c, audioFile }));
  const calls = c.calls ?? 1;
  const args = [
    c.remote ?? '127.0.0.1:5060',
    '-sf',
    file,
    '-s',
    c.dial,
    '-i',
    '127.0.0.1',
    '-p',
    String(c.localPort ?? 5070),
    '-mp',
    String((c.localPort ?? 5070) + 1000),
    '-m',
    String(calls),
    '-l',
    String(c.concurrent ?? 1),
    '-r',
    String(c.rate ?? 10),
    '-timeout',
    `${c.timeoutSec ?? 120}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err',
    '-error_file',
    join(dir, 'errors.log'),
    '-trace_stat',
    '-stf',
    join(dir, 'stat.csv'),
  ];
  const code = await new Promise<number>((resolve, reject) => {
    const p = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === null) reject(new Error(`sipp killed: ${stderr}`));
      else resolve(code);
    });
  });
  let successful = 0;
  let failed = calls;
  const stat = readdirSync(dir).find((f) => f.startsWith('stat'));
  if (stat) {
    const lines = readFileSync(join(dir, stat), 'utf8').trim().split('\n');
    const head = lines[0]!.split(';');
    const last = lines[lines.length - 1]!.split(';');
    successful = Number(last[head.indexOf('SuccessfulCall(C)')]);
    failed = Number(last[head.indexOf('FailedCall(C)')]);
  }
  let errors = '';
  try {
    errors = readFileSync(join(dir, 'errors.log'), 'utf8').slice(0, 4000);
  } catch {
    /* none */
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, successful, failed, errors };
}
