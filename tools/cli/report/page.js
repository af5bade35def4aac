// Browser side of the kerawasm HTML report (tools/cli/report/html.ts inlines it after uPlot):
// draws the charts from the JSON in #kw-data. window.kwCharts holds the uPlot instances, by name.
(function () {
  const data = JSON.parse(document.getElementById('kw-data').textContent);
  const charts = {};
  window.kwCharts = charts;

  const kib = (n) => (n == null ? '' : n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
  const width = (el) => Math.max(480, Math.min(1100, el.clientWidth || 960));

  /** x axis of categories 0..n-1 labelled by `names` */
  function categoryAxis(names, label) {
    return {
      label,
      splits: () => names.map((_, i) => i),
      values: (_u, splits) => splits.map((i) => names[i] ?? ''),
      rotate: names.length > 8 ? -30 : 0,
      size: names.length > 8 ? 90 : 50,
    };
  }

  function arenaChart(el) {
    const a = data.arena;
    const steps = a.liveBytes.map((_, i) => i);
    const opText = (i) => (i == null ? '' : i < data.ops.length ? `#${i} ${data.ops[i].op} ${data.ops[i].layer}` : 'outputs read');
    charts.arena = new uPlot(
      {
        width: width(el),
        height: 320,
        scales: { x: { time: false }, y: { range: [0, Math.max(a.arenaBytes, 16) * 1.1] } },
        axes: [
          { label: 'op (step)', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
          { label: 'arena bytes', values: (_u, v) => v.map(kib), size: 80 },
        ],
        series: [
          { label: 'op', value: (_u, v) => opText(v) },
          { label: 'occupied', stroke: '#1f6feb', fill: 'rgba(31,111,235,0.25)', paths: uPlot.paths.stepped({ align: 1 }), value: (_u, v) => kib(v) },
          { label: 'arena size', stroke: '#d1242f', dash: [6, 4], points: { show: false }, value: (_u, v) => kib(v) },
        ],
      },
      [steps, a.liveBytes, steps.map(() => a.arenaBytes)],
      el,
    );
  }

  function boardsChart(el) {
    const rows = data.boards;
    const pct = (x, of) => Math.round((1000 * x) / of) / 10;
    const bars = (align) => uPlot.paths.bars({ size: [0.35, 40], align });
    charts.boards = new uPlot(
      {
        width: width(el),
        height: 340,
        scales: { x: { time: false, range: [-0.6, rows.length - 0.4] }, y: { range: [0, Math.max(110, ...rows.map((r) => pct(r.ram, r.ramUsable)))] } },
        axes: [
          categoryAxis(
            rows.map((r) => r.board),
            'board',
          ),
          { label: '% of usable', values: (_u, v) => v.map((x) => `${x}%`) },
        ],
        series: [
          { label: 'board', value: (_u, i) => rows[i]?.board ?? '' },
          {
            label: 'RAM',
            stroke: '#1f6feb',
            fill: 'rgba(31,111,235,0.6)',
            paths: bars(-1),
            points: { show: false },
            value: (_u, v) => (v == null ? '' : `${v}%`),
          },
          {
            label: 'flash',
            stroke: '#8250df',
            fill: 'rgba(130,80,223,0.6)',
            paths: bars(1),
            points: { show: false },
            value: (_u, v) => (v == null ? '' : `${v}%`),
          },
          { label: 'usable', stroke: '#d1242f', dash: [6, 4], points: { show: false }, value: (_u, v) => (v == null ? '' : `${v}%`) },
        ],
      },
      [rows.map((_, i) => i), rows.map((r) => pct(r.ram, r.ramUsable)), rows.map((r) => pct(r.flash, r.flashUsable)), rows.map(() => 100)],
      el,
    );
  }

  function errorsChart(el) {
    const rows = data.layerErrors;
    charts.errors = new uPlot(
      {
        width: width(el),
        height: 300,
        scales: { x: { time: false, range: [-0.6, rows.length - 0.4] }, y: { range: [0, Math.max(10, ...rows.map((r) => r.sqnrDb)) * 1.1] } },
        axes: [
          categoryAxis(
            rows.map((r) => r.layer),
            'layer',
          ),
          { label: 'SQNR (dB)' },
        ],
        series: [
          { label: 'layer', value: (_u, i) => (rows[i] ? `${rows[i].layer} (${rows[i].className}, ${rows[i].precision})` : '') },
          {
            label: 'SQNR dB',
            stroke: '#1a7f37',
            fill: 'rgba(26,127,55,0.6)',
            paths: uPlot.paths.bars({ size: [0.6, 60] }),
            points: { show: false },
            value: (_u, v) => (v == null ? '' : `${v.toFixed(1)} dB`),
          },
        ],
      },
      [rows.map((_, i) => i), rows.map((r) => r.sqnrDb)],
      el,
    );
  }

  if (data.arena) arenaChart(document.getElementById('arena-chart'));
  if (data.boards.length) boardsChart(document.getElementById('boards-chart'));
  if (data.layerErrors && data.layerErrors.length) errorsChart(document.getElementById('errors-chart'));
})();
