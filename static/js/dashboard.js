// The dashboards' charts: one per table that has a chart, drawn from the figures the page
// rendered into #dashboard-data (the same numbers as the table under each chart).
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  // Twelve colours no two alike, dark enough on white; past them, hues spread by the golden
  // angle, so that every series of a chart has its own colour however many there are.
  const palette = [
    "#1f4e79", "#0b7a4b", "#9a5b00", "#b42318", "#6b4c9a", "#2f80ed",
    "#5b6675", "#c2185b", "#00838f", "#7a6a00", "#e65100", "#3f51b5",
  ];
  function colourOf(index) {
    if (index < palette.length) return palette[index];
    return "hsl(" + Math.round((index * 137.508) % 360) + ", 65%, 38%)";
  }
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
          const colour = colourOf(index);
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
        scales: {
          y: {
            beginAtZero: true,
            title: { display: !!spec.y_label, text: spec.y_label },
            // Counts step by whole numbers: never 0.1 of a decision.
            ticks: spec.integer ? { precision: 0 } : {},
          },
        },
      },
    });
    canvas.dataset.drawn = "true";
  });
  window.skamDashboardCharts = charts;
})();
