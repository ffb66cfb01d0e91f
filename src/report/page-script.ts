/**
 * The report page's own script: glue that hands the embedded data to
 * Chart.js (one chart per canvas that the page has), plus a small plugin that
 * shades the timeline's interruptions and stalls. Plain browser JavaScript,
 * kept as a string and inlined after Chart.js; the browser test
 * (report-browser.test.ts) runs it.
 */
export const PAGE_SCRIPT = String.raw`(() => {
'use strict';
const data = JSON.parse(document.getElementById('report-data').textContent);
const C = {
  items: '#2563eb', wait: '#d97706', parse: '#6366f1', write: '#059669', lines: '#2563eb',
  gap: 'rgba(220, 38, 38, 0.13)', stall: 'rgba(217, 119, 6, 0.20)',
  promote: '#16a34a', monitor: '#d97706', block: '#dc2626', none: '#9ca3af', current: '#1d4ed8', other: '#93c5fd',
};
const CODES = ['#dc2626', '#ea580c', '#ca8a04', '#65a30d', '#0891b2', '#7c3aed', '#db2777', '#475569', '#0d9488', '#9333ea'];
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';
Chart.defaults.color = '#374151';
Chart.defaults.plugins.legend.labels.boxWidth = 12;

const fmt = (n) => (n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
const when = (iso) => iso.slice(5, 16).replace('T', ' ');

// Shades spans of the x axis (interruptions, stalls) behind the datasets.
const bands = {
  id: 'bands',
  beforeDatasetsDraw(chart, _args, opts) {
    const { ctx, chartArea: a, scales: { x } } = chart;
    for (const s of opts.spans || []) {
      const x0 = Math.max(a.left, x.getPixelForValue(s.from));
      const x1 = Math.min(a.right, x.getPixelForValue(s.to));
      if (x1 <= x0) continue;
      ctx.save();
      ctx.fillStyle = s.color;
      ctx.fillRect(x0, a.top, Math.max(2, x1 - x0), a.bottom - a.top);
      ctx.restore();
    }
  },
};

const charts = {};
function draw(id, config) {
  const canvas = document.getElementById(id);
  if (canvas === null) return;
  charts[id] = new Chart(canvas, config);
}
const axis = (text, extra) => Object.assign({ beginAtZero: true, title: { display: true, text } }, extra || {});

const tl = data.timeline;
const spans = tl.gaps.map((g) => Object.assign({ color: C.gap }, g)).concat(tl.stalls.map((s) => Object.assign({ color: C.stall }, s)));
const seconds = axis('seconds since the run started', { type: 'linear', min: 0 });
draw('chart-throughput', {
  type: 'line',
  data: { datasets: [
    { label: 'items/s', data: tl.points.map((p) => ({ x: p.t, y: p.itemsPerSecond })), borderColor: C.items, backgroundColor: C.items, pointRadius: 2, borderWidth: 1.5, spanGaps: false, yAxisID: 'y' },
    { type: 'bar', label: 'rejected lines', data: tl.points.map((p) => ({ x: p.t, y: p.rejected })), backgroundColor: 'rgba(220, 38, 38, 0.55)', yAxisID: 'y2' },
  ] },
  options: {
    scales: { x: seconds, y: axis('items/s'), y2: axis('rejected lines', { position: 'right', grid: { drawOnChartArea: false } }) },
    plugins: { bands: { spans } },
  },
  plugins: [bands],
});
draw('chart-cumulative', {
  type: 'line',
  data: { datasets: [{ label: 'lines committed', data: [{ x: 0, y: 0 }].concat(tl.points.map((p) => ({ x: p.t, y: p.cumulativeLines }))), borderColor: C.lines, backgroundColor: 'rgba(37, 99, 235, 0.15)', fill: true, pointRadius: 0, borderWidth: 1.5 }] },
  options: { scales: { x: seconds, y: axis('lines') }, plugins: { bands: { spans } } },
  plugins: [bands],
});

const w = data.workers;
const part = (label, color, f) => ({ label, backgroundColor: color, data: w.map((r) => f(r) / 1000) });
draw('chart-workers', {
  type: 'bar',
  data: { labels: w.map((r) => r.label), datasets: [
    part('parse', C.parse, (r) => r.parseMs), part('wait', C.wait, (r) => r.waitMs),
    part('write and commit', C.write, (r) => r.writeMs),
  ] },
  options: { indexAxis: 'y', scales: { x: axis('seconds', { stacked: true }), y: { stacked: true } } },
});

const rj = data.rejects;
const codeColor = (i) => CODES[i % CODES.length];
draw('chart-reject-codes', {
  type: 'bar',
  data: { labels: rj.codes.map((c) => c.code), datasets: [{ label: 'rejected lines', data: rj.codes.map((c) => c.count), backgroundColor: rj.codes.map((_c, i) => codeColor(i)) }] },
  options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: axis('lines') } },
});
draw('chart-reject-strip', {
  type: 'bar',
  data: {
    labels: Array.from({ length: rj.bins }, (_v, i) => 'lines ' + fmt(i * rj.linesPerBin + 1) + '-' + fmt((i + 1) * rj.linesPerBin)),
    datasets: rj.strip.map((s, i) => ({ label: s.code, data: s.counts, backgroundColor: codeColor(i), barPercentage: 1, categoryPercentage: 1 })),
  },
  options: {
    plugins: { legend: { position: 'right' } },
    scales: { x: { stacked: true, ticks: { autoSkip: true, maxTicksLimit: 8, callback: (_v, i) => fmt(i * rj.linesPerBin + 1) }, title: { display: true, text: 'line number' } }, y: axis('rejects', { stacked: true }) },
  },
});

const sc = data.scores;
draw('chart-decisions', {
  type: 'bar',
  data: { labels: sc.decisions.map((d) => d.decision), datasets: [{ label: 'items', data: sc.decisions.map((d) => d.count), backgroundColor: sc.decisions.map((d) => C[d.decision] || C.none) }] },
  options: { plugins: { legend: { display: false } }, scales: { y: axis('items') } },
});
draw('chart-scores', {
  type: 'bar',
  data: {
    labels: Array.from({ length: 100 / sc.width }, (_v, i) => i * sc.width + '-' + (i + 1) * sc.width),
    datasets: sc.histogram.map((h) => ({ label: h.decision, data: h.counts, backgroundColor: C[h.decision] || C.none, barPercentage: 1, categoryPercentage: 0.95 })),
  },
  options: { scales: { x: { stacked: true, title: { display: true, text: 'trend score' } }, y: axis('items', { stacked: true }) } },
});

const rc = data.recent;
const labels = rc.map((r) => when(r.startedAt));
const colors = rc.map((r) => (r.current ? C.current : C.other));
const small = (id, label, values, title) => draw(id, {
  type: 'bar',
  data: { labels, datasets: [{ label, data: values, backgroundColor: colors }] },
  options: { plugins: { legend: { display: false }, title: { display: true, text: title } }, scales: { x: { ticks: { display: false } }, y: { beginAtZero: true } } },
});
small('chart-recent-duration', 'seconds', rc.map((r) => r.workingMs / 1000), 'working time (s)');
small('chart-recent-rate', 'items/s', rc.map((r) => r.itemsPerSecond), 'items/s');
small('chart-recent-rejects', 'reject ratio (%)', rc.map((r) => (r.rejectRatio === null ? null : r.rejectRatio * 100)), 'rejected (% of non-blank lines)');
draw('chart-recent-counts', {
  type: 'bar',
  data: { labels, datasets: [
    { label: 'inserted', data: rc.map((r) => r.inserted), backgroundColor: '#2563eb' },
    { label: 'updated', data: rc.map((r) => r.updated), backgroundColor: '#7c3aed' },
    { label: 'unchanged', data: rc.map((r) => r.unchanged), backgroundColor: '#9ca3af' },
    { label: 'rejected', data: rc.map((r) => r.rejected), backgroundColor: '#dc2626' },
  ] },
  options: { plugins: { title: { display: true, text: 'lines' } }, scales: { x: { stacked: true, ticks: { display: false } }, y: { stacked: true, beginAtZero: true } } },
});

// Printing lays the page out anew: the charts follow their boxes.
window.addEventListener('beforeprint', () => { for (const c of Object.values(charts)) c.resize(); });
window.addEventListener('afterprint', () => { for (const c of Object.values(charts)) c.resize(); });
document.documentElement.dataset.charts = String(Object.keys(charts).length);
})();
`;
