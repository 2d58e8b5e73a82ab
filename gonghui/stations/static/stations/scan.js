// 扫码签到: where the browser has BarcodeDetector and a camera, read the station poster's QR
// code and submit what it holds (the check-in URL; the server takes the station number from
// it); typing the station number into the same form always works.
(function () {
  "use strict";
  var form = document.querySelector("[data-scan-form]");
  if (!form) { return; }
  var input = form.querySelector("[data-scan-code]");
  var start = form.querySelector("[data-scan-start]");
  var unsupported = form.querySelector("[data-scan-unsupported]");
  var scanner = document.querySelector("[data-scanner]");
  var video = document.querySelector("[data-scan-video]");
  var stopButton = document.querySelector("[data-scan-stop]");
  var stream = null;
  var running = false;

  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    unsupported.hidden = false;
    return;
  }

  function stop() {
    running = false;
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    scanner.hidden = true;
    start.hidden = false;
  }

  function found(text) {
    stop();
    input.value = text;
    form.submit();
  }

  function scan() {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    start.hidden = true;
    function tick() {
      if (!running) { return; }
      // Until the camera delivers frames a detection finds nothing (or fails): try again.
      detector.detect(video).then(function (codes) {
        if (codes.length && codes[0].rawValue) { found(codes[0].rawValue); }
        else { window.setTimeout(tick, 200); }
      }).catch(function () { window.setTimeout(tick, 400); });
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      scanner.hidden = false;
      running = true;
      video.play().catch(function () { /* muted inline video: plays once frames arrive */ });
      tick();
    }).catch(function () {
      stop();
      unsupported.textContent = "无法打开摄像头，请在浏览器设置中允许使用摄像头，或输入站点编号。";
      unsupported.hidden = false;
    });
  }

  stopButton.addEventListener("click", stop);
  start.addEventListener("click", scan);
  start.hidden = false;
  if (!input.value) { scan(); }  // opened from 扫码签到: the camera is what the member asked for
})();
