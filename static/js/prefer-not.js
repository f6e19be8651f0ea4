// "Prefer not to answer" and an answer exclude each other: a radio once chosen cannot be
// unchosen by the patient, so ticking the box clears the item's answer, and choosing an
// answer clears the box. Without this a patient who changed their mind got "give an answer
// or a reason, not both" with no way to remove the answer.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (!el.form || !el.name) {
    return;
  }
  var suffix = "__reason";
  if (el.classList.contains("prefer-not")) {
    if (!el.checked) {
      return;
    }
    var item = el.name.slice(0, -suffix.length);
    el.form.querySelectorAll("input[name='" + item + "']").forEach(function (input) {
      if (input.type === "radio" || input.type === "checkbox") {
        input.checked = false;
      } else {
        input.value = "";
      }
    });
  } else if (el.type === "radio" || el.type === "checkbox" || el.type === "number") {
    var box = el.form.querySelector("input.prefer-not[name='" + el.name + suffix + "']");
    if (box) {
      box.checked = false;
    }
  }
});
