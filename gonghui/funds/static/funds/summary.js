// 资金使用汇总: budget and spending by fund source (bars), spending by category (pie), ECharts.
// Amounts arrive as integer fen and are shown as yuan.
(function () {
  "use strict";
  var source = document.getElementById("funds-summary-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var empty = { text: "暂无数据", left: "center", top: "middle", textStyle: { color: "#999", fontSize: 14 } };

  function yuan(fen) { return fen / 100; }
  function money(value) { return "¥" + Number(value).toFixed(2); }

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var instance = window.echarts.init(el);
    instance.setOption(option);
    el.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { instance.resize(); });
  }

  chart("chart-sources", {
    title: data.sources.length ? undefined : empty,
    tooltip: { trigger: "axis", valueFormatter: money },
    legend: { data: ["预算", "已支出"] },
    grid: { left: 8, right: 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.sources },
    yAxis: { type: "value", name: "元" },
    series: [
      { name: "预算", type: "bar", data: data.budget_fen.map(yuan) },
      { name: "已支出", type: "bar", data: data.spent_fen.map(yuan) }
    ]
  });
  chart("chart-categories", {
    title: data.categories.length ? undefined : empty,
    tooltip: { trigger: "item", valueFormatter: money },
    legend: { bottom: 0 },
    series: [{
      name: "支出净额",
      type: "pie",
      radius: ["35%", "65%"],
      data: data.categories.map(function (c) { return { name: c.name, value: yuan(c.value_fen) }; })
    }]
  });
})();
