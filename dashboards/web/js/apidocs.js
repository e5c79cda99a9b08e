// The hub's /docs page: Swagger UI, vendored in /vendor/swagger-ui/ (a classic script that
// defines SwaggerUIBundle), started on the hub's OpenAPI document. A file rather than the inline
// script FastAPI's page uses, so the page needs no 'unsafe-inline' script in its policy.

const root = document.getElementById("swagger-ui");
window.ui = window.SwaggerUIBundle({
  url: root.dataset.openapi,
  domNode: root,
  deepLinking: false,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
