// A <select data-autosubmit> sends its form when changed. A file of its own, not an
// onchange attribute: the Content-Security-Policy forbids inline scripts.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]") && event.target.form) {
    event.target.form.submit();
  }
});
