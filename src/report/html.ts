/**
 * The run report as one self-contained HTML page: the text and tables
 * rendered here (every value from the feed or the database escaped), the
 * charts drawn in the browser by Chart.js from the data embedded as JSON.
 * Scripts, styles and data are inline; the Content-Security-Policy lets the
 * page load nothing, so it reads the same offline, from a file:// URL.
 */
import { fmtDuration, fmtInt } from '../cli/format';
import { chartJsSource } from './chart-lib';
import { html, jsonScriptText } from './escape';
import type { RunReportData } from './model';
import { PAGE_SCRIPT } from './page-script';

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
*{box-sizing:border-box}body{margin:0 auto;max-width:1180px;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;font-weight:600;vertical-align:middle;color:#fff;background:#6b7280}
.status.completed{background:#16a34a}.status.failed{background:#dc2626}.status.cancelled,.status.interrupted{background:#d97706}.status.running{background:#2563eb}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:6px 18px;margin:12px 0}
dl.facts div{min-width:0}dt{color:#6b7280;font-size:12px}dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.recon{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f3f4f6;padding:6px 10px;border-radius:4px;overflow-wrap:anywhere}
pre{background:#111827;color:#f9fafb;padding:8px 10px;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere}
.note{color:#4b5563;font-size:13px;margin:4px 0}
.chart{position:relative;height:260px;margin:8px 0}.chart.short{height:150px}.chart.small{height:170px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}.grid4{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td code{overflow-wrap:anywhere;white-space:pre-wrap}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin:0 4px 0 10px}
footer{margin-top:32px;color:#6b7280;font-size:12px}
@media (max-width:800px){.grid2,.grid4{grid-template-columns:1fr}}
@media print{body{max-width:none;padding:0;font-size:12px}section{break-inside:avoid}pre{background:#fff;color:#000;border:1px solid #999}.chart{height:220px}}
`;

/** The page for `data`. */
export function renderHtml(data: RunReportData): string {
  const r = data.run;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Run ${html(r.runId)} · brand-orchestrator</title>
<style>${STYLE}</style>
</head>
<body>
${headerSection(data)}
${throughputSection(data)}
${timeSection(data)}
${rejectsSection(data)}
${scoresSection(data)}
${recentSection(data)}
<footer>brand-orchestrator ${html(data.version)} · report generated ${html(data.generatedAt)} · charts by Chart.js (MIT)</footer>
<script type="application/json" id="report-data">${jsonScriptText(chartData(data))}</script>
<script>${chartJsSource()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** What the charts need: numbers and short labels; feed text stays in the escaped tables. */
function chartData(d: RunReportData): unknown {
  return {
    timeline: d.timeline, workers: d.workers,
    rejects: { codes: d.rejects.codes, linesPerBin: d.rejects.linesPerBin, bins: d.rejects.bins, strip: d.rejects.strip },
    scores: d.scores, recent: d.recent,
  };
}

function fact(label: string, value: string): string {
  return `<div><dt>${html(label)}</dt><dd>${value}</dd></div>`;
}

function headerSection(d: RunReportData): string {
  const r = d.run;
  const chunking = r.chunkSize !== null ? `${fmtInt(r.chunkSize)} lines` : r.chunkBytes !== null ? `${fmtInt(r.chunkBytes)} bytes` : '-';
  return `<header>
<h1>Run ${html(r.runId)} <span class="status ${html(r.status)}">${html(r.status)}</span></h1>
<dl class="facts">
${fact('feed', html(r.input ?? 'stdin or a stream'))}
${fact('database', `${html(r.database)} (${r.backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`)}
${fact('type', html(r.runType))}
${fact('started', html(r.startedAt))}
${fact('finished', html(r.finishedAt ?? '-'))}
${fact('time', `${html(fmtDuration(r.workingMs))} of work${r.interruptedMs > 0 ? `, ${html(fmtDuration(r.elapsedMs))} since it started (${html(fmtDuration(r.interruptedMs))} interrupted)` : ''}`)}
${fact('items/s', r.itemsPerSecond === null ? '-' : fmtInt(r.itemsPerSecond))}
${fact('workers', r.workers === null ? '-' : fmtInt(r.workers))}
${fact('chunks', `${fmtInt(r.chunks)} of ${chunking}`)}
</dl>
<p class="recon" id="reconciliation">lines ${fmtInt(r.linesRead)} = blank ${fmtInt(r.blankLines)} + inserted ${fmtInt(r.inserted)} + updated ${fmtInt(r.updated)} + unchanged ${fmtInt(r.unchanged)} + rejected ${fmtInt(r.rejected)}</p>
${r.notes !== null ? `<p class="note">notes: ${html(r.notes)}</p>` : ''}
${r.nextStep !== null ? `<p class="note">This run can be resumed; what to do next:</p><pre id="resume">${html(r.nextStep)}</pre>` : ''}
</header>`;
}

function legend(items: [color: string, label: string][]): string {
  return `<p class="note">${items.map(([c, l]) => `<span class="swatch" style="background:${c}"></span>${html(l)}`).join(' ')}</p>`;
}

function throughputSection(d: RunReportData): string {
  const tl = d.timeline;
  if (tl.points.length === 0) return '<section id="throughput"><h2>Throughput</h2><p class="note">No chunk was committed.</p></section>';
  const marks = [];
  if (tl.gaps.length > 0) marks.push(`${tl.gaps.length === 1 ? 'one interruption' : `${tl.gaps.length} interruptions`} (red band: no process was committing until the run was resumed)`);
  if (tl.stalls.length > 0) marks.push(`${tl.stalls.length === 1 ? 'one stall' : `${tl.stalls.length} stalls`} (amber band: chunks over 5× the median time)`);
  return `<section id="throughput"><h2>Throughput</h2>
<p class="note">Items per second as the chunks committed${tl.groupSize > 1 ? ` (each point sums ${fmtInt(tl.groupSize)} consecutive chunks)` : ' (one point per chunk)'}, over the last ${tl.window === 1 ? 'point' : `${tl.window} points`}, and the lines committed. ${marks.length > 0 ? html(marks.join('; ')) : 'No interruption or stall.'}</p>
<div class="chart"><canvas id="chart-throughput" role="img" aria-label="items per second over time"></canvas></div>
<div class="chart short"><canvas id="chart-cumulative" role="img" aria-label="lines committed over time"></canvas></div>
${legend([['rgba(220,38,38,0.3)', 'interrupted'], ['rgba(217,119,6,0.4)', 'stall']])}
</section>`;
}

function timeSection(d: RunReportData): string {
  if (d.workers.length === 0) return '';
  const s = (ms: number | null) => (ms === null ? '-' : fmtDuration(ms));
  const rows = d.workers.map((w) => `<tr><td>${html(w.label)}</td><td class="num">${fmtInt(w.chunks)}</td><td class="num">${fmtInt(w.lines)}</td>`
    + `<td class="num">${s(w.parseMs)}</td><td class="num">${s(w.waitMs)}</td><td class="num">${s(w.writeMs)}</td></tr>`);
  return `<section id="time"><h2>Where the time went</h2>
<p class="note">Per worker thread of the process that recorded the run's end${d.run.interruptedMs > 0 || d.run.backend === 'postgres' ? ' (an earlier attempt of a resumed run, or another process of a joined one, is not in it)' : ''}: parsing, waiting for the chunk's place in input order (SQLite: and for the write lock), and writing with the commit (SQLite: holding the write lock; PostgreSQL: the transaction). ${html(workNote(d))}</p>
<div class="chart" style="height:${Math.max(140, 46 + d.workers.length * 30)}px"><canvas id="chart-workers" role="img" aria-label="time per worker"></canvas></div>
<table id="workers"><thead><tr><th>worker</th><th class="num">chunks</th><th class="num">lines</th><th class="num">parse</th><th class="num">wait</th><th class="num">write and commit</th></tr></thead>
<tbody>${rows.join('')}</tbody></table>
</section>`;
}

/** The telemetry's totals as one sentence. */
function workNote(d: RunReportData): string {
  const w = d.work;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const parts = [];
  if (w.poolUtilization !== null) parts.push(`the threads were busy ${pct(w.poolUtilization)} of the time`);
  if (w.writeLockShare !== null) parts.push(`a thread held the write lock ${pct(w.writeLockShare)} of the run`);
  if (w.retries !== null) parts.push(`${w.retries === 1 ? 'one chunk was' : `${fmtInt(w.retries)} chunks were`} tried again`);
  if (w.conflicts !== null && w.conflicts > 0) parts.push(`${fmtInt(w.conflicts)} transactions ran again after a conflict`);
  return parts.length === 0 ? '' : `${parts.join('; ')}.`.replace(/^./, (c) => c.toUpperCase());
}

function rejectsSection(d: RunReportData): string {
  const rj = d.rejects;
  if (rj.total === 0) return '<section id="rejects"><h2>Rejects</h2><p class="note">No line was rejected.</p></section>';
  const rows = rj.examples.map((e) => `<tr><td>${html(e.code)}</td><td class="num">${e.lineNo > 0 ? fmtInt(e.lineNo) : '?'}</td><td>${html(e.reason)}</td><td><code>${html(e.excerpt)}</code></td></tr>`);
  return `<section id="rejects"><h2>Rejects</h2>
<p class="note">${fmtInt(rj.total)} rejected lines in ${rj.codes.length === 1 ? 'one code' : `${rj.codes.length} codes`}; below, where in the file they fall (${fmtInt(rj.linesPerBin)} lines per bar)${rj.unplaced > 0 ? `; ${fmtInt(rj.unplaced)} not placed yet (an earlier chunk is not committed)` : ''}.</p>
<div class="grid2"><div class="chart short"><canvas id="chart-reject-codes" role="img" aria-label="rejects per code"></canvas></div>
<div class="chart short"><canvas id="chart-reject-strip" role="img" aria-label="rejects over line numbers"></canvas></div></div>
<table id="reject-examples"><thead><tr><th>code</th><th class="num">line</th><th>reason</th><th>excerpt</th></tr></thead><tbody>${rows.join('')}</tbody></table>
</section>`;
}

function scoresSection(d: RunReportData): string {
  const sc = d.scores;
  const items = sc.decisions.reduce((n, x) => n + x.count, 0);
  if (items === 0) return '<section id="scores"><h2>Decisions and scores</h2><p class="note">The run inserted or changed no item (unchanged items keep the run that wrote them).</p></section>';
  return `<section id="scores"><h2>Decisions and scores</h2>
<p class="note">The ${fmtInt(items)} items this run inserted or changed: ${sc.decisions.map((x) => `${html(x.decision)} ${fmtInt(x.count)}`).join(', ')}${sc.unscored > 0 ? `; ${fmtInt(sc.unscored)} without a trend score` : ''}.</p>
<div class="grid2"><div class="chart small"><canvas id="chart-decisions" role="img" aria-label="items per decision"></canvas></div>
<div class="chart small"><canvas id="chart-scores" role="img" aria-label="trend score histogram"></canvas></div></div>
</section>`;
}

function recentSection(d: RunReportData): string {
  const rows = d.recent.map((r) => `<tr${r.current ? ' class="current"' : ''}><td>${html(r.runId)}${r.current ? ' (this run)' : ''}</td><td>${html(r.startedAt)}</td><td>${html(r.status)}</td>`
    + `<td class="num">${html(fmtDuration(r.workingMs))}</td><td class="num">${r.itemsPerSecond === null ? '-' : fmtInt(r.itemsPerSecond)}</td>`
    + `<td class="num">${r.rejectRatio === null ? '-' : `${(r.rejectRatio * 100).toFixed(2)}%`}</td></tr>`);
  return `<section id="recent"><h2>The last ${fmtInt(d.recent.length)} runs of this database</h2>
<p class="note">Oldest first; this run's bar is dark.</p>
<div class="grid4"><div class="chart small"><canvas id="chart-recent-duration" role="img" aria-label="durations"></canvas></div>
<div class="chart small"><canvas id="chart-recent-rate" role="img" aria-label="items per second"></canvas></div>
<div class="chart small"><canvas id="chart-recent-rejects" role="img" aria-label="reject ratios"></canvas></div>
<div class="chart small"><canvas id="chart-recent-counts" role="img" aria-label="line counts"></canvas></div></div>
<table id="recent-runs"><thead><tr><th>run</th><th>started</th><th>status</th><th class="num">working time</th><th class="num">items/s</th><th class="num">rejected</th></tr></thead><tbody>${rows.join('')}</tbody></table>
</section>`;
}
