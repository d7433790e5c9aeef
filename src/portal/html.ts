// Server-rendered pages: every value goes through esc(); styles and the one script are served from /assets so
// the Content-Security-Policy can forbid inline code.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export const CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Who the page is for: the nav shows what their role may open, and every form carries their CSRF token. */
export interface Viewer {
  username: string;
  role: string;
  csrf: string;
}

export function csrfField(v: Viewer): string {
  return `<input type="hidden" name="_csrf" value="${esc(v.csrf)}">`;
}

export function page(title: string, body: string, v?: Viewer): string {
  const admin =
    v?.role === 'admin'
      ? '<a href="/admin/deliveries">Deliveries</a><a href="/admin/users">Users</a><a href="/admin/audit">Audit</a><a href="/status">Connectivity</a>'
      : '';
  const nav = v
    ? `<nav><a href="/recordings">Recordings</a>${admin}<span class="who">${esc(v.username)} <span class="muted">(${esc(v.role)})</span></span><form method="post" action="/logout">${csrfField(v)}<button type="submit">Log out</button></form></nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} - dialplan-companion</title><link rel="stylesheet" href="/assets/portal.css"></head>
<body><header><span class="brand">dialplan-companion</span>${nav}</header><main>${body}</main>
<script src="/assets/portal.js"></script></body></html>`;
}

export const PORTAL_CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1d2330;background:#f5f6f8}
header{display:flex;align-items:center;gap:1rem;padding:.6rem 1.2rem;background:#1d2330;color:#fff}
header a{color:#cfe0ff;text-decoration:none}.brand{font-weight:600}nav{display:flex;gap:1rem;align-items:center;margin-left:auto}
nav form{margin:0}nav button{background:none;border:1px solid #8899bb;color:#fff;border-radius:4px;padding:.15rem .6rem;cursor:pointer}
main{max-width:1100px;margin:1.2rem auto;padding:0 1rem}h1{font-size:1.3rem}
form.search{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;background:#fff;padding:.8rem;border-radius:6px}
label{display:flex;flex-direction:column;font-size:.8rem;color:#556}input,select{font:inherit;padding:.3rem .4rem;border:1px solid #c6ccd8;border-radius:4px}
button.primary{background:#2456c7;color:#fff;border:0;border-radius:4px;padding:.4rem 1rem;font:inherit;cursor:pointer}
table{width:100%;border-collapse:collapse;background:#fff;margin-top:1rem;border-radius:6px}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #eceff4}th{font-size:.8rem;color:#556}
.error{background:#fde8e8;color:#8a1c1c;padding:.6rem .8rem;border-radius:4px}.muted{color:#778}
.login{max-width:340px;margin:4rem auto;background:#fff;padding:1.4rem;border-radius:8px;display:flex;flex-direction:column;gap:.8rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.8rem;background:#e3e8f2}
.badge.LV{background:#d8f3dc}.badge.AM{background:#ffe8c2}.badge.FX,.badge.SIT,.badge.MD{background:#f6d5d5}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.8rem;border-radius:6px}dt{color:#556}
audio{width:100%;margin:1rem 0}.timeline{background:#fff;border-radius:6px;padding:.6rem}
.timeline svg{width:100%;height:auto;display:block}.timeline .mark{cursor:pointer}
.timeline .axis{stroke:#99a3b5}.timeline text{font-size:11px;fill:#1d2330}.timeline .playhead{stroke:#2456c7;stroke-width:2}
.events button{background:none;border:0;color:#2456c7;cursor:pointer;font:inherit;padding:0}
.pager{display:flex;gap:1rem;margin-top:.6rem}
.picture .level{fill:#9fb3d9;stroke:none}.picture .level.leg2{fill:#c9b3d9}.picture .beep{fill:#c0392b;opacity:.18}
form.inline{display:inline-flex;gap:.3rem;align-items:center;margin:0}form.inline input,form.inline select{padding:.15rem .3rem}
button.small{font:inherit;font-size:.8rem;padding:.1rem .5rem;border:1px solid #c6ccd8;border-radius:4px;background:#fff;cursor:pointer}
.ok{background:#e6f4ea;padding:.6rem .8rem;border-radius:4px}
`;

// Marks and the call picture seek the player (a click on the picture goes to that moment); the playhead follows.
export const PORTAL_JS = `
(function(){
  var audio=document.querySelector('audio[data-duration]');if(!audio)return;
  var dur=Number(audio.getAttribute('data-duration'));
  function seek(t){audio.currentTime=t;audio.play().catch(function(){});}
  document.querySelectorAll('[data-seek]').forEach(function(el){el.addEventListener('click',function(ev){ev.stopPropagation();seek(Number(el.getAttribute('data-seek')));});});
  var pic=document.querySelector('.timeline svg');
  if(pic)pic.addEventListener('click',function(ev){var r=pic.getBoundingClientRect();if(r.width>0&&dur>0)seek(Math.max(0,Math.min(dur,(ev.clientX-r.left)/r.width*dur)));});
  var head=document.querySelector('.timeline .playhead');
  audio.addEventListener('timeupdate',function(){if(head&&dur>0){var x=(audio.currentTime/dur*1000).toFixed(1);head.setAttribute('x1',x);head.setAttribute('x2',x);}});
})();
`;
