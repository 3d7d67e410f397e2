(function () {
  "use strict";
  var input = document.getElementById("pdf");
  var out = document.getElementById("check-result");
  if (!input || !out) { return; }
  function show(level, text) {
    out.className = "result r-" + level;
    out.textContent = text;
  }
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) { return; }
    show("warn", "正在核对，请稍候……");
    var url = location.pathname.replace(/^\/v\//, "/api/v1/verify/") + "/document" + location.search;
    fetch(url, {
      method: "POST", body: file, credentials: "omit", referrerPolicy: "no-referrer",
      headers: {"Content-Type": "application/pdf"}
    }).then(function (resp) {
      return resp.json().then(function (body) {
        if (resp.ok && body.conclusion) {
          show(body.conclusion.level, body.conclusion.text);
        } else {
          show("bad", (body.error && body.error.message) || "核对失败，请稍后再试");
        }
      });
    }).catch(function () {
      show("bad", "核对失败，请检查网络后重试");
    });
    input.value = "";
  });
})();
