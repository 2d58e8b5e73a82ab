// 服务阵地: "使用我的位置" asks the browser for the phone's position (WGS-84) and searches from
// it; choosing a district searches from the district instead.
(function () {
  "use strict";
  var form = document.querySelector("[data-nearest-form]");
  if (!form) { return; }
  var lat = form.querySelector("[data-lat]");
  var lng = form.querySelector("[data-lng]");
  var district = form.querySelector("[data-district]");
  var button = form.querySelector("[data-locate]");
  var error = form.querySelector("[data-locate-error]");
  function fail(text) {
    error.textContent = text;
    error.hidden = false;
    button.disabled = false;
  }
  button.addEventListener("click", function () {
    if (!navigator.geolocation) { fail("此浏览器无法获取位置，请选择区县查找"); return; }
    button.disabled = true;
    error.hidden = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      lat.value = position.coords.latitude.toFixed(6);
      lng.value = position.coords.longitude.toFixed(6);
      district.value = "";
      form.submit();
    }, function (problem) {
      fail(problem && problem.code === 1 ? "您未允许获取位置，请在浏览器设置中允许，或选择区县查找" : "暂时无法获取位置，请稍后再试或选择区县查找");
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });
  district.addEventListener("change", function () {
    lat.value = "";
    lng.value = "";
    if (district.value) { form.submit(); }
  });
})();
