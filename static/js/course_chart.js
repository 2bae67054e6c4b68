// The course record's charts: grade per area, circumference per area and weight over time,
// drawn with Chart.js (served from node_modules, no CDN) from the page's json_script data.
// The same values are in the tables under the charts, for screen readers and exact reading.
(function () {
  "use strict";
  var source = document.getElementById("course-chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var lang = document.documentElement.lang || undefined;
  var dayFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: "UTC" });
  var fullFormat = new Intl.DateTimeFormat(lang, {
    day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  });
  // Distinct on white and for the common colour-vision deficiencies (Okabe-Ito).
  var COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
  var DASHES = [[], [6, 4], [2, 3], [8, 3, 2, 3]];

  function asDate(iso) {
    return new Date(iso + "T00:00:00Z");
  }

  function build(canvas, series, options) {
    var days = [];
    series.forEach(function (s) {
      s.points.forEach(function (p) {
        if (days.indexOf(p[0]) === -1) days.push(p[0]);
      });
    });
    days.sort();
    var datasets = series.map(function (s, index) {
      var byDay = {};
      s.points.forEach(function (p) { byDay[p[0]] = p[1]; });
      var colour = COLOURS[index % COLOURS.length];
      return {
        label: s.label,
        data: days.map(function (day) { return day in byDay ? byDay[day] : null; }),
        borderColor: colour,
        backgroundColor: colour,
        borderDash: DASHES[index % DASHES.length],
        pointStyle: ["circle", "rect", "triangle", "rectRot"][index % 4],
        pointRadius: 4,
        spanGaps: true,
        cubicInterpolationMode: "monotone",  // no overshoot between two equal grades
        clip: 8,  // points on the top or bottom line are drawn whole
      };
    });
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: days, datasets: datasets },
      options: {
        animation: false,
        layout: { padding: { top: 6 } },
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: {
            display: series.length > 1 || options.legend,
            position: "bottom",
            labels: { usePointStyle: true, boxHeight: 8 },
          },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? fullFormat.format(asDate(days[items[0].dataIndex])) : "";
              },
            },
          },
        },
        scales: {
          x: {
            offset: true,
            ticks: {
              callback: function (value) { return dayFormat.format(asDate(days[value])); },
              maxRotation: 0,
              autoSkip: true,
            },
          },
          y: options.y,
        },
      },
    });
  }

  var Y = {
    grades: { min: 0, max: 3, ticks: { stepSize: 1, precision: 0 } },
    circumferences: { grace: "5%" },
    weight: { grace: "5%" },
  };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var key = canvas.getAttribute("data-chart");
    var series = data[key] || [];
    if (!series.length) return;
    build(canvas, series, { y: Y[key] || {}, legend: key !== "weight" });
  });
})();
