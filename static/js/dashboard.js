// The dashboards' charts: one per table that has a chart, drawn from the figures the page
// rendered into #dashboard-data (the same numbers as the table under each chart).
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  const palette = ["#1f4e79", "#0b7a4b", "#9a5b00", "#b42318", "#6b4c9a", "#2f80ed", "#5b6675"];
  // Axis ticks and tooltips in the page's language ("1 200,5" in Russian), not the browser's.
  const locale = document.documentElement.lang || undefined;
  const charts = {};
  JSON.parse(source.textContent).forEach(function (spec) {
    const canvas = document.getElementById("chart-" + spec.key);
    if (!canvas) return;
    charts[spec.key] = new Chart(canvas, {
      type: spec.kind,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, index) {
          const colour = palette[index % palette.length];
          return {
            label: set.label,
            data: set.data,
            borderColor: colour,
            backgroundColor: colour,
            spanGaps: true,
          };
        }),
      },
      options: {
        locale: locale,
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: !!spec.y_label, text: spec.y_label } } },
      },
    });
    canvas.dataset.drawn = "true";
  });
  window.skamDashboardCharts = charts;
})();
