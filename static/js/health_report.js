/* Trend chart of a health report (H5 and console): one indicator at a time, chosen in the
   select or by a "查看趋势" link; the reference range is shaded, exams are circles and
   健康小屋 readings squares. Data comes from the json_script element #health-chart. */
(function () {
  "use strict";
  var source = document.getElementById("health-chart");
  var box = document.getElementById("trend-chart");
  var select = document.getElementById("trend-select");
  if (!source || !box || !select || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var series = data.series || {};
  var codes = Object.keys(series);
  if (!codes.length) {
    box.textContent = "暂无可显示的趋势";
    return;
  }
  codes.forEach(function (code) {
    var option = document.createElement("option");
    option.value = code;
    option.textContent = series[code].name + (series[code].unit ? "（" + series[code].unit + "）" : "");
    select.appendChild(option);
  });
  var chart = echarts.init(box, null, { renderer: "canvas" });

  function draw(code) {
    var s = series[code];
    if (!s) {
      return;
    }
    select.value = code;
    var values = s.points.map(function (p) { return p[1]; });
    var limits = [s.low, s.high].filter(function (v) { return v !== null; });
    var all = values.concat(limits);
    var min = Math.min.apply(null, all);
    var max = Math.max.apply(null, all);
    var pad = (max - min) * 0.15 || Math.abs(max) * 0.1 || 1;
    var band = [];
    if (s.low !== null || s.high !== null) {
      band = [[{ yAxis: s.low !== null ? s.low : min - pad }, { yAxis: s.high !== null ? s.high : max + pad }]];
    }
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 28, bottom: 36 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + " " + s.unit; } },
      xAxis: { type: "time", minInterval: 365 * 24 * 3600 * 1000, axisLabel: { formatter: "{yyyy}", hideOverlap: true } },
      yAxis: { type: "value", name: s.unit, scale: true, min: Math.floor((min - pad) * 100) / 100, max: Math.ceil((max + pad) * 100) / 100 },
      series: [{
        name: s.name,
        type: "line",
        data: s.points.map(function (p) {
          return { value: [p[0], p[1]], symbol: p[2] === "kiosk" ? "rect" : "circle", symbolSize: p[2] === "kiosk" ? 7 : 9 };
        }),
        lineStyle: { width: 2 },
        itemStyle: { color: "#c1272d" },
        markArea: { silent: true, itemStyle: { color: "rgba(7, 193, 96, 0.12)" }, data: band }
      }]
    }, true);
  }

  select.addEventListener("change", function () { draw(select.value); });
  document.querySelectorAll("[data-trend-code]").forEach(function (link) {
    link.addEventListener("click", function () { draw(link.getAttribute("data-trend-code")); });
  });
  window.addEventListener("resize", function () { chart.resize(); });
  draw((data["default"] && data["default"][0]) || codes[0]);
  box.setAttribute("data-ready", "1");
})();
