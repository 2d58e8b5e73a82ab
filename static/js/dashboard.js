(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var status = data("status-data");
  if (status && window.echarts) {
    echarts.init(document.getElementById("chart-status")).setOption({
      tooltip: { trigger: "item" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["40%", "70%"], data: status }]
    });
  }
  var tags = data("tag-data");
  if (tags && window.echarts) {
    echarts.init(document.getElementById("chart-tags")).setOption({
      tooltip: {},
      grid: { left: 90, right: 20, top: 10, bottom: 20 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: tags.labels },
      series: [{ type: "bar", data: tags.values, itemStyle: { color: "#c1272d" } }]
    });
  }
})();
