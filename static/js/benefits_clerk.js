// 核销员页面: switch point on change, scan a coupon QR code with the camera (BarcodeDetector),
// keep the code field focused for a keypad or a USB scanner.
(function () {
  "use strict";
  var pointSelect = document.getElementById("clerk-point");
  if (pointSelect) {
    pointSelect.addEventListener("change", function () {
      if (pointSelect.value) { document.getElementById("clerk-point-form").submit(); }
    });
  }
  var form = document.getElementById("clerk-form");
  var input = document.getElementById("clerk-code");
  var scanButton = document.getElementById("clerk-scan");
  var scanner = document.getElementById("clerk-scanner");
  var video = document.getElementById("clerk-video");
  var tip = document.getElementById("clerk-scan-tip");
  var stopButton = document.getElementById("clerk-scan-stop");
  if (!form || !input) { return; }
  input.focus();

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "clerk-result" &&
        event.detail.target.querySelector("[data-testid=clerk-success]")) {
      input.value = "";
      input.focus();
    }
  });

  var stream = null;
  var running = false;

  function stop() {
    running = false;
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    scanner.hidden = true;
  }

  function found(text) {
    stop();
    input.value = text.replace(/\D/g, "");
    if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.submit(); }
  }

  if (stopButton) { stopButton.addEventListener("click", stop); }
  if (!scanButton) { return; }
  scanButton.addEventListener("click", function () {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
      scanner.hidden = false;
      tip.textContent = "当前浏览器不支持摄像头扫码，请手动输入券码或使用扫码枪。";
      return;
    }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      scanner.hidden = false;
      running = true;
      return video.play();
    }).then(function () {
      function tick() {
        if (!running) { return; }
        detector.detect(video).then(function (codes) {
          if (codes.length && /^\d{14}$/.test(codes[0].rawValue.replace(/\D/g, ""))) { found(codes[0].rawValue); }
          else { window.setTimeout(tick, 200); }
        }).catch(function () { window.setTimeout(tick, 400); });
      }
      tick();
    }).catch(function () {
      scanner.hidden = false;
      tip.textContent = "无法打开摄像头，请检查权限或手动输入券码。";
    });
  });
})();
