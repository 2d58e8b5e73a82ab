// /api/docs: start the vendored Swagger UI from the settings the page carries as JSON (no inline
// script, so the project's CSP holds). Session-authenticated calls send the CSRF token.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("swagger-settings").textContent);
  var token = document.body.getAttribute("data-csrf-token");
  config.dom_id = "#swagger-ui";
  config.presets = [window.SwaggerUIBundle.presets.apis];
  if (token) {
    config.requestInterceptor = function (request) {
      request.headers["X-CSRFToken"] = token;
      return request;
    };
  }
  window.SwaggerUIBundle(config);
})();
