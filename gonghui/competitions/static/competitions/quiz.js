// A quiz on the phone: the countdown (the server keeps the real deadline and refuses late
// answers; this only hands the paper in when the time is up) and the click on a picture
// that answers a "find the hazard" question.
(function () {
  "use strict";
  var form = document.querySelector("[data-quiz-form]");
  if (!form) { return; }
  var clock = document.querySelector("[data-remaining]");
  if (clock) {
    var left = parseInt(clock.getAttribute("data-remaining"), 10) || 0;
    var tick = function () {
      clock.textContent = Math.floor(left / 60) + " 分 " + (left % 60) + " 秒";
      if (left <= 0) { form.submit(); return; }
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }
  form.querySelectorAll("[data-spot]").forEach(function (box) {
    var image = box.querySelector("img");
    var mark = box.querySelector(".spot-mark");
    var qid = box.getAttribute("data-spot");
    image.addEventListener("click", function (event) {
      var r = image.getBoundingClientRect();
      var x = (event.clientX - r.left) / r.width, y = (event.clientY - r.top) / r.height;
      form.querySelector("input[name=q" + qid + "_x]").value = x.toFixed(4);
      form.querySelector("input[name=q" + qid + "_y]").value = y.toFixed(4);
      mark.hidden = false;
      mark.style.left = x * 100 + "%";
      mark.style.top = y * 100 + "%";
    });
  });
})();
