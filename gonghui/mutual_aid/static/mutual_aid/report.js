// 医疗互助基金报表: premiums collected and benefits paid per unit (bars), ECharts. Fen → yuan.
(function () {
  "use strict";
  var source = document.getElementById("mutual-aid-report-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var el = document.getElementById("chart-units");
  if (!el) { return; }
  function yuan(fen) { return fen / 100; }
  var chart = window.echarts.init(el);
  chart.setOption({
    title: data.units.length ? undefined : { text: "暂无数据", left: "center", top: "middle", textStyle: { color: "#999", fontSize: 14 } },
    tooltip: { trigger: "axis", valueFormatter: function (v) { return "¥" + Number(v).toFixed(2); } },
    legend: { data: ["收缴", "支付"] },
    grid: { left: 8, right: 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.units, axisLabel: { interval: 0, rotate: data.units.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", name: "元" },
    series: [
      { name: "收缴", type: "bar", data: data.collected_fen.map(yuan) },
      { name: "支付", type: "bar", data: data.paid_fen.map(yuan) }
    ]
  });
  el.setAttribute("data-rendered", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
