// Starts Swagger UI on this origin's OpenAPI document. A file of its own, not an
// inline script, so the page's CSP can be script-src 'self' and nothing more.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/docs/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // The default validator is a badge loaded from a third-party server: off (offline, private).
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  tryItOutEnabled: false,
  persistAuthorization: false,
});
