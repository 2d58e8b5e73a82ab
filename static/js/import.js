// Bulk member import: show that a long form submission is under way and keep it from being
// sent twice (a large file takes seconds to check).
(function () {
  "use strict";
  function busy(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (!button) {
        return;
      }
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = button.getAttribute("data-busy-text") || "请稍候…";
      }, 0);
    });
  }
  ["import-upload-form", "import-commit-form"].forEach(function (id) {
    var form = document.getElementById(id);
    if (form) {
      busy(form);
    }
  });
})();
