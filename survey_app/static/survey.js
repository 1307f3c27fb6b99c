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

  form.addEventListener("change", update);
  update();

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
    if (sent) event.preventDefault();
    sent = true;
    window.setTimeout(function () { sent = false; }, 8000);
  });
})();
