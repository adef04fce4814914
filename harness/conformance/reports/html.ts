import { GRADES, type SuiteReport, summaryLine } from '../types.ts';

/**
 * One self-contained HTML file (inline CSS and JS, nothing fetched): the run's summary, a filter by grade,
 * and every case with its verdict and an expandable, timestamped trace (hex shown on request). Works with
 * scripts off too: the filter is the only thing that needs them.
 */
export function htmlReport(report: SuiteReport): string {
  const title = `meterlab conformance: ${report.role} ${report.protocol} ${report.device ?? ''}`.trim();
  const chips = GRADES.map(
    (g) =>
      `<button type="button" class="chip g-${g}" data-grade="${g}" aria-pressed="true"><b>${report.counts[g]}</b> ${g}</button>`,
  ).join('\n');
  const cases = report.results
    .map((r) => {
      const rows = r.trace
        .map(
          (e) =>
            `<tr class="k-${e.kind}"><td class="t">${e.atMs.toFixed(1)}</td><td class="d">${ARROWS[e.kind]}</td>` +
            `<td><div class="text">${esc(e.text)}</div>${e.hex ? `<div class="hex">${esc(e.hex)}</div>` : ''}</td></tr>`,
        )
        .join('\n');
      return `<details class="case g-${r.grade}" data-grade="${r.grade}" id="${esc(r.id)}">
<summary><span class="id">${esc(r.id)}</span><span class="grade g-${r.grade}">${r.grade}</span><span class="title">${esc(r.title)}</span><span class="ms">${Math.round(r.durationMs)} ms</span></summary>
<div class="body">
<p class="msg">${esc(r.message)}</p>
<p class="clause"><span>Clause</span> ${esc(r.clause)}</p>
${r.reason ? `<p class="clause"><span>Why</span> ${esc(r.reason)}</p>` : ''}
<table class="trace"><thead><tr><th>ms</th><th></th><th>exchange</th></tr></thead><tbody>
${rows}
</tbody></table>
</div>
</details>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<dl class="meta">
<dt>role</dt><dd>${esc(report.role)}</dd>
<dt>protocol</dt><dd>${esc(report.protocol)}</dd>
<dt>target</dt><dd>${esc(report.target)}</dd>
${report.device ? `<dt>device</dt><dd>${esc(report.device)}</dd>` : ''}
<dt>started</dt><dd>${esc(report.startedAt)}</dd>
<dt>took</dt><dd>${(report.durationMs / 1000).toFixed(1)} s</dd>
</dl>
<p class="summary">${esc(summaryLine(report.counts))}</p>
<div class="controls">
<div class="chips" role="group" aria-label="show grades">${chips}</div>
<label><input type="checkbox" id="hex"> show hex</label>
<button type="button" id="open-bad">expand fail / non-strict</button>
<button type="button" id="close-all">collapse all</button>
</div>
</header>
<main>
${cases}
</main>
<footer>meterlab conform — each case: id, grade, clause, and the timestamped exchange that proves the verdict.</footer>
<script>${JS}</script>
</body>
</html>
`;
}

const ARROWS: Record<string, string> = {
  sent: '&rarr;',
  received: '&larr;',
  dropped: '&times;',
  silence: '&hellip;',
  note: '',
};

const CSS = `
:root{--pass:#1a7f37;--non-strict:#9a6700;--fail:#cf222e;--info:#0969da;--unimplemented:#8250df;--skipped:#6e7781;font-family:system-ui,sans-serif;color:#1f2328}
body{margin:0 auto;max-width:1100px;padding:16px 20px}
h1{font-size:20px;margin:0 0 8px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 8px;font-size:13px}
.meta dt{color:#656d76}.meta dd{margin:0;font-family:ui-monospace,monospace}
.summary{font-weight:600;margin:8px 0}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:12px;font-size:13px}
.chips{display:flex;gap:6px;flex-wrap:wrap}
.chip{border:1px solid currentColor;border-radius:12px;padding:2px 10px;background:#fff;cursor:pointer;font-size:13px}
.chip[aria-pressed=false]{opacity:.35;text-decoration:line-through}
.controls>button{border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa;padding:3px 10px;cursor:pointer}
.g-pass{color:var(--pass)}.g-non-strict{color:var(--non-strict)}.g-fail{color:var(--fail)}.g-info{color:var(--info)}.g-unimplemented{color:var(--unimplemented)}.g-skipped{color:var(--skipped)}
details.case{border:1px solid #d0d7de;border-left:4px solid currentColor;border-radius:6px;margin:4px 0;color:inherit}
details.case.g-pass{border-left-color:var(--pass)}details.case.g-non-strict{border-left-color:var(--non-strict)}details.case.g-fail{border-left-color:var(--fail)}details.case.g-info{border-left-color:var(--info)}details.case.g-unimplemented{border-left-color:var(--unimplemented)}details.case.g-skipped{border-left-color:var(--skipped)}
details.case>summary{display:grid;grid-template-columns:90px 110px 1fr 70px;gap:8px;padding:6px 10px;cursor:pointer;color:#1f2328;font-size:14px}
.id{font-family:ui-monospace,monospace;font-weight:600}.grade{font-weight:600}.ms{text-align:right;color:#656d76}
.body{padding:0 12px 10px;color:#1f2328;font-size:13px}
.msg{font-weight:600}.clause span{display:inline-block;min-width:52px;color:#656d76}
.trace{border-collapse:collapse;width:100%;font-family:ui-monospace,monospace;font-size:12px}
.trace th{text-align:left;color:#656d76;font-weight:400;border-bottom:1px solid #d0d7de}
.trace td{vertical-align:top;padding:2px 6px;border-bottom:1px solid #f0f2f4}
.trace .t{text-align:right;white-space:nowrap;color:#656d76;width:64px}.trace .d{width:18px;text-align:center}
.k-sent .d{color:var(--info)}.k-received .d{color:var(--pass)}.k-dropped{color:var(--fail)}.k-silence{color:#656d76;font-style:italic}.k-note{color:#656d76}
.text{word-break:break-all}.hex{display:none;color:#57606a;word-break:break-all}
body.show-hex .hex{display:block}
footer{margin-top:16px;color:#656d76;font-size:12px}
`;

const JS = `
(function(){
  var hidden={};
  function apply(){document.querySelectorAll('details.case').forEach(function(d){d.hidden=!!hidden[d.dataset.grade];});}
  document.querySelectorAll('.chip').forEach(function(b){b.addEventListener('click',function(){
    var g=b.dataset.grade;hidden[g]=!hidden[g];b.setAttribute('aria-pressed',String(!hidden[g]));apply();});});
  document.getElementById('hex').addEventListener('change',function(e){document.body.classList.toggle('show-hex',e.target.checked);});
  document.getElementById('open-bad').addEventListener('click',function(){document.querySelectorAll('details.case').forEach(function(d){
    d.open=d.dataset.grade==='fail'||d.dataset.grade==='non-strict';});});
  document.getElementById('close-all').addEventListener('click',function(){document.querySelectorAll('details.case').forEach(function(d){d.open=false;});});
})();
`;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
