// The export page follows its job until the files are ready. A file of its own, not an
// inline script: the Content-Security-Policy forbids inline scripts.
(function () {
  const page = document.querySelector("[data-export-progress]");
  if (!page) return;
  const bar = document.getElementById("bar");
  (function poll() {
    fetch(page.dataset.exportProgress).then((r) => r.json()).then((d) => {
      bar.style.width = d.progress + "%";
      bar.textContent = d.progress + "%";
      document.getElementById("status-text").textContent = d.label + (d.error ? ": " + d.error : "");
      if (d.status === "done") { document.getElementById("downloads").hidden = false; }
      else if (d.status !== "failed") { setTimeout(poll, 1000); }
    });
  })();
})();
