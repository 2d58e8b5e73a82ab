// 部门监督考核: closure rate and overdue notices per department (ECharts).
(function () {
  "use strict";
  var source = document.getElementById("suggestions-metrics-data");
  var el = document.getElementById("chart-departments");
  if (!source || !el || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = window.echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["办结率（%）", "逾期（件）"] },
    xAxis: { type: "category", data: data.names },
    yAxis: [{ type: "value", name: "%", max: 100 }, { type: "value", name: "件" }],
    series: [
      { name: "办结率（%）", type: "bar", data: data.closure },
      { name: "逾期（件）", type: "bar", yAxisIndex: 1, data: data.overdue }
    ],
    title: data.names.length ? undefined : { text: "暂无数据", left: "center", top: "middle" }
  });
  el.setAttribute("data-rendered", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
