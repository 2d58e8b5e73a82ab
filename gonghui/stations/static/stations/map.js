// 服务阵地地图: Leaflet over the configured tile server; markers arrive already in the tiles'
// coordinate system (GCJ-02 for 高德/腾讯 tiles), converted by the server.
(function () {
  "use strict";
  var el = document.getElementById("station-map");
  var source = document.getElementById("station-map-data");
  if (!el || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  if (!data.centre) { return; }
  var map = window.L.map(el).setView(data.centre, 14);
  window.L.tileLayer(data.tile_url, { maxZoom: 18, attribution: data.attribution || "" }).addTo(map);
  window.L.circleMarker(data.centre, { radius: 7, color: "#1677ff", fillOpacity: 0.8 }).addTo(map).bindPopup("您的位置");
  var bounds = [data.centre];
  data.markers.forEach(function (m) {
    var link = document.createElement("a");
    link.href = m.url;
    link.textContent = m.name + "（" + m.distance + "）";
    window.L.marker([m.lat, m.lng]).addTo(map).bindPopup(link);
    bounds.push([m.lat, m.lng]);
  });
  // Without animation: the markers are where they stay once the page says it is drawn (a tap
  // during Leaflet's zoom animation is taken for a drag and opens no popup).
  if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false }); }
  el.setAttribute("data-rendered", String(data.markers.length));
})();
