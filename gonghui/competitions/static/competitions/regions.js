// Drawing the hazard region of a "find the hazard" question: drag on the picture; the rectangle
// is kept as fractions of the picture's width and height in the form's rx/ry/rw/rh fields.
(function () {
  "use strict";
  document.querySelectorAll("[data-region-box]").forEach(function (box) {
    var form = box.closest("form") || document.querySelector("[data-testid=accept-form]");
    var image = box.querySelector("[data-region-image]");
    var rect = box.querySelector("[data-region-rect]");
    var file = form ? form.querySelector("[data-region-file]") : null;
    var start = null;
    if (file) {
      file.addEventListener("change", function () {
        if (file.files && file.files[0]) { image.src = URL.createObjectURL(file.files[0]); }
      });
    }
    function point(event) {
      var r = image.getBoundingClientRect();
      return {
        x: Math.min(Math.max((event.clientX - r.left) / r.width, 0), 1),
        y: Math.min(Math.max((event.clientY - r.top) / r.height, 0), 1),
      };
    }
    function set(name, value) {
      if (!form) { return; }
      var input = form.querySelector("input[name=" + name + "]");
      if (input) { input.value = value.toFixed(4); }
    }
    function draw(a, b) {
      var x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
      var w = Math.abs(a.x - b.x), h = Math.abs(a.y - b.y);
      rect.hidden = false;
      rect.style.left = x * 100 + "%";
      rect.style.top = y * 100 + "%";
      rect.style.width = w * 100 + "%";
      rect.style.height = h * 100 + "%";
      set("rx", x); set("ry", y); set("rw", w); set("rh", h);
    }
    image.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      start = point(event);
    });
    window.addEventListener("pointermove", function (event) {
      if (start) { draw(start, point(event)); }
    });
    window.addEventListener("pointerup", function (event) {
      if (start) { draw(start, point(event)); start = null; }
    });
  });
})();
