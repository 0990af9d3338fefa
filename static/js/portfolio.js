// The portfolio map: clients by coverage (x) and potential revenue (y, log scale), coloured by
// status and verdict, with the ruler's threshold as a vertical line. Data comes from the page.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("portfolio-data").textContent);
  const canvas = document.getElementById("portfolio-map");
  if (!canvas || typeof Chart === "undefined") return;
  // Numbers in the page's language ("52,9" in Russian), not the browser's.
  const locale = document.documentElement.lang || undefined;
  const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const colours = {
    key_meets: "#0b7a4b", key_fails: "#b42318", other_meets: "#1f4e79", other_fails: "#9aa5b1",
  };
  const groups = Object.keys(colours).map(function (group) {
    return {
      label: data.labels[group],
      data: data.points.filter(function (p) { return p.group === group && p.y > 0; }),
      backgroundColor: colours[group],
      pointRadius: 4,
    };
  });
  const ys = data.points.map(function (p) { return p.y; }).filter(function (y) { return y > 0; });
  const low = ys.length ? Math.min.apply(null, ys) : 1;
  const high = ys.length ? Math.max.apply(null, ys) : 10;
  groups.push({
    type: "line",
    label: data.labels.threshold + " " + decimal.format(data.threshold) + " %",
    data: [{ x: data.threshold, y: low }, { x: data.threshold, y: high }],
    borderColor: "#9a5b00",
    borderDash: [6, 4],
    pointRadius: 0,
  });
  const chart = new Chart(canvas, {
    type: "scatter",
    data: { datasets: groups },
    options: {
      locale: locale,
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { min: 0, max: 100, title: { display: true, text: data.labels.x } },
        y: { type: "logarithmic", title: { display: true, text: data.labels.y } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: function (ctx) {
              const p = ctx.raw;
              if (!p.name) return "";
              return p.name + ": " + decimal.format(p.x) + " %, " + whole.format(p.y);
            },
          },
        },
      },
      onClick: function (_event, elements) {
        if (!elements.length) return;
        const p = elements[0].element.$context.raw;
        if (p.id) window.location.href = "/ruler/clients/" + p.id + "/";
      },
    },
  });
  canvas.dataset.points = String(data.points.length);
  window.skamPortfolioChart = chart;
})();
