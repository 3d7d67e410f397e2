(function () {
  "use strict";
  var input = document.getElementById("pdf");
  var out = document.getElementById("check-result");
  if (!input || !out) { return; }
  function show(level, text) {
    out.className = "result r-" + level;
    out.textContent = text;
  }
  // "电子签名算法：SM2/SM3（国密）" and who checked them, under the verdict
  function algorithms(body) {
    var seen = {};
    (body.signatures || []).forEach(function (sig) { if (sig.algorithm) { seen[sig.algorithm] = 1; } });
    var names = Object.keys(seen);
    if (!names.length) { return ""; }
    var gm = names.indexOf("SM2/SM3") >= 0;
    return "电子签名算法：" + names.join("、") + (gm ? "（国密），由 OpenSSL 3 完成 SM2 验签" : "");
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
          var extra = algorithms(body);
          show(body.conclusion.level, body.conclusion.text + (extra ? "\n" + extra : ""));
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
