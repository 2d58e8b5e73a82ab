// Loaded by both base templates right after htmx. htmx 2 drops 4xx/5xx answers by default, so
// a refused form (422 validation, 429 throttled, 403/404 from the access policy) would show
// nothing. Every 4xx answer is a fragment rendered for the request's target (the views and
// gonghui.core.middleware render one for HX-Request), so it is swapped in like a success.
// A 5xx answer or a lost connection has no such fragment: a notice says so instead.
(function () {
  "use strict";
  if (!window.htmx) { return; }
  window.htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: true },
    { code: "...", swap: false, error: true }
  ];

  function notice(text) {
    var box = document.getElementById("htmx-error-notice");
    if (!box) {
      box = document.createElement("div");
      box.id = "htmx-error-notice";
      box.setAttribute("role", "alert");
      box.setAttribute("data-testid", "htmx-error-notice");
      box.className = "htmx-error-notice";
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.hidden = false;
    window.clearTimeout(box.hideTimer);
    box.hideTimer = window.setTimeout(function () { box.hidden = true; }, 6000);
  }

  document.body.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status >= 500) { notice("服务器暂时无法完成操作，请稍后重试。"); }
  });
  document.body.addEventListener("htmx:sendError", function () {
    notice("网络连接失败，请检查网络后重试。");
  });
})();
