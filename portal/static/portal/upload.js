// Drag and drop for the upload form (the form works without it). Served by the portal.
(function () {
  var drop = document.getElementById("drop"), input = document.getElementById("files");
  var chosen = document.getElementById("chosen"), form = document.getElementById("upload-form");
  if (!drop || !input) return;
  function show() {
    var names = [];
    for (var i = 0; i < input.files.length; i++) names.push(input.files[i].name);
    chosen.textContent = names.length ? "已选择：" + names.join("、") : "";
  }
  ["dragenter", "dragover"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; show(); }
  });
  input.addEventListener("change", show);
  form.addEventListener("submit", function () {
    document.getElementById("busy").hidden = false;
    document.getElementById("upload-button").disabled = true;
  });
})();
