// The searchable union picker (templates/includes/org_picker.html): picking a line puts the
// union's code into the hidden field; typing again after a pick clears it, so a half-typed
// name is never submitted as a choice.
(function () {
  "use strict";
  if (window.gonghuiOrgPicker) {
    return;
  }
  window.gonghuiOrgPicker = true;
  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-org-option]");
    if (!option) {
      return;
    }
    event.preventDefault();
    var picker = option.closest("[data-org-picker]");
    var search = picker.querySelector("[data-org-search]");
    picker.querySelector("[data-org-code]").value = option.getAttribute("data-code");
    search.value = option.getAttribute("data-label");
    search.setAttribute("data-chosen-label", search.value);
    search.classList.remove("is-invalid");
    picker.querySelector("[data-org-results]").innerHTML = "";
  });
  document.addEventListener("input", function (event) {
    var search = event.target.closest("[data-org-search]");
    if (!search) {
      return;
    }
    if (search.value !== search.getAttribute("data-chosen-label")) {
      search.closest("[data-org-picker]").querySelector("[data-org-code]").value = "";
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.closest("[data-org-picker]")) {
      event.target.closest("[data-org-picker]").querySelector("[data-org-results]").innerHTML = "";
    }
  });
  // The public search answers 429 with a hint when typed too fast: show it like any answer.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 429 && event.detail.target.hasAttribute("data-org-results")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
