// Conveniences for the resident survey; the form works fully without this file.
// Skip logic is enforced on the server; here questions are only shown or hidden live.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form) return;
  var blocks = form.querySelectorAll("[data-show-if]");

  function answers(qid) {
    var picked = [];
    form.querySelectorAll('[name="a_' + qid + '"]').forEach(function (input) {
      if (input.checked) picked.push(input.value);
    });
    return picked;
  }

  function visible(qid) {
    var block = document.getElementById("q-" + qid);
    return !block || !block.hidden;
  }

  function update() {
    // In document order, so a question that depends on a hidden one is hidden too.
    blocks.forEach(function (block) {
      var source = block.getAttribute("data-show-if");
      var codes = block.getAttribute("data-codes").split(" ");
      block.hidden = !(visible(source) && answers(source).some(function (code) {
        return codes.indexOf(code) >= 0;
      }));
      block.querySelectorAll(".cond").forEach(function (note) { note.hidden = true; });
    });
  }

  // How many of the questions now shown have an answer (a light progress line).
  var progress = document.getElementById("progress");
  function count() {
    if (!progress) return;
    var shown = 0, done = 0;
    form.querySelectorAll(".q").forEach(function (block) {
      if (block.hidden) return;
      shown += 1;
      var answered = false;
      block.querySelectorAll("input, textarea").forEach(function (input) {
        if ((input.type === "radio" || input.type === "checkbox") ? input.checked
            : input.value.trim() !== "") answered = true;
      });
      if (answered) done += 1;
    });
    progress.textContent = progress.getAttribute("data-template")
      .replace("%(done)s", done).replace("%(total)s", shown);
    progress.hidden = false;
  }

  form.addEventListener("change", function () { update(); count(); });
  form.addEventListener("input", count);
  update();
  count();

  // A text-size or language switch reloads the page with the answers: keep the place.
  var KEY = "survey-scroll:" + location.pathname;
  var kept = window.sessionStorage && sessionStorage.getItem(KEY);
  if (kept) {
    sessionStorage.removeItem(KEY);
    window.scrollTo(0, parseInt(kept, 10) || 0);
  }
  document.querySelectorAll('[name="larger_text"], [name="normal_text"], [name="language"]')
    .forEach(function (button) {
      button.addEventListener("click", function () {
        if (window.sessionStorage) sessionStorage.setItem(KEY, String(window.scrollY));
      });
    });

  // Enter in a text box must not press the first button (the text-size switch).
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.tagName === "INPUT" &&
        event.target.type === "text") {
      event.preventDefault();
    }
  });

  // A double tap sends the form once; the server is idempotent anyway.
  var sent = false;
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.name !== "submit" && button.name !== "save") return;
    if (sent) event.preventDefault();
    sent = true;
    window.setTimeout(function () { sent = false; }, 8000);
  });
})();
