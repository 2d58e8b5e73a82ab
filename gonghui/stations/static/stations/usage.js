// 服务阵地使用情况: check-ins per day and per hour of the day (ECharts).
(function () {
  "use strict";
  var source = document.getElementById("stations-usage-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  function draw(id, labels, values, kind) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = window.echarts.init(el);
    var empty = !values.some(function (v) { return v > 0; });
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 16, top: 24, bottom: 40 },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value", name: "次", minInterval: 1 },
      series: [{ name: "签到", type: kind, data: values, smooth: kind === "line" }],
      title: empty ? { text: "暂无签到", left: "center", top: "middle", textStyle: { color: "#999", fontSize: 14 } } : undefined
    });
    el.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  draw("chart-days", data.days, data.by_day, "line");
  draw("chart-hours", data.hours, data.by_hour, "bar");
})();
