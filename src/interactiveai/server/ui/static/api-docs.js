// /api/public/docs: Swagger UI (vendored in static/swagger-ui/) over the server's OpenAPI document.
// A file rather than an inline script, so the page keeps the UI's content security policy.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // never send the document to a third-party validator
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
})();
