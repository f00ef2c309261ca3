// Polls the run's status and shows the stage it is in. Served by the portal.
(function () {
  var box = document.getElementById("run");
  if (!box || box.getAttribute("data-status") !== "running") return;
  var url = box.getAttribute("data-status-url");
  function text(el, s) { el.textContent = s; }
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var list = document.getElementById("stages");
        list.innerHTML = "";
        s.stages.forEach(function (label) { var li = document.createElement("li"); li.textContent = label; list.appendChild(li); });
        var now = document.getElementById("now"), bar = document.getElementById("bar");
        if (s.status === "running") {
          text(now, "正在：" + s.label + (s.total ? "（" + (s.done || 0) + " / " + s.total + "）" : ""));
          if (s.total) { bar.hidden = false; bar.max = s.total; bar.value = s.done || 0; } else { bar.hidden = true; }
          text(document.getElementById("item"), s.item || "");
          setTimeout(tick, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 800);
})();
