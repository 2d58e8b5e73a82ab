// 活动报表: issued / claimed / redeemed by day, redemptions by point, coupons by union (ECharts).
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var instance = window.echarts.init(el);
    instance.setOption(option);
    window.addEventListener("resize", function () { instance.resize(); });
  }

  var empty = { text: "暂无数据", left: "center", top: "middle", textStyle: { color: "#999", fontSize: 14 } };

  chart("chart-days", {
    title: data.days.length ? undefined : empty,
    tooltip: { trigger: "axis" },
    legend: { data: ["发放", "领取", "核销"] },
    grid: { left: 8, right: 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "发放", type: "bar", data: data.issued },
      { name: "领取", type: "bar", data: data.claimed },
      { name: "核销", type: "line", data: data.redeemed }
    ]
  });
  chart("chart-points", {
    title: data.points.length ? undefined : empty,
    tooltip: { trigger: "axis" },
    grid: { left: 8, right: 16, bottom: 24, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: data.points },
    series: [{ name: "核销", type: "bar", data: data.point_redeemed }]
  });
  chart("chart-orgs", {
    title: data.orgs.length ? undefined : empty,
    tooltip: { trigger: "axis" },
    legend: { data: ["发放", "领取", "核销"] },
    grid: { left: 8, right: 16, bottom: 24, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: data.orgs },
    series: [
      { name: "发放", type: "bar", data: data.org_issued },
      { name: "领取", type: "bar", data: data.org_claimed },
      { name: "核销", type: "bar", data: data.org_redeemed }
    ]
  });
})();
