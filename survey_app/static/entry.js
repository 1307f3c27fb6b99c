// Keyboard-first paper entry: Enter moves to the next visible answer (Enter on the last one
// submits), and skip logic hides questions whose condition does not hold, as in the web form.
// The server applies the same skip logic (questionnaires.validate_answers); this only saves keys.
(function () {
  "use strict";

  function typedCodes(wrapper) {
    var input = wrapper.querySelector(".answer-input");
    var text = input ? input.value.trim() : "";
    if (!text) { return []; }
    var parts = text.split(/[\s,，.、;；]+/).filter(Boolean);
    if (wrapper.dataset.multiple && wrapper.dataset.singleDigit && parts.length === 1) {
      parts = parts[0].split("");
    }
    return parts.map(function (part) {
      // Full-width digits from a Chinese input method count as ASCII digits.
      return part.replace(/[０-９]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); });
    });
  }

  function applySkipLogic(form) {
    var visible = {};
    form.querySelectorAll("[data-qid]").forEach(function (wrapper) {
      var source = wrapper.dataset.showIf;
      var shown = true;
      if (source) {
        var sourceWrapper = form.querySelector('[data-qid="' + source + '"]');
        var codes = (wrapper.dataset.showCodes || "").split(" ");
        shown = Boolean(visible[source]) && typedCodes(sourceWrapper).some(function (code) {
          return codes.indexOf(code) !== -1;
        });
      }
      visible[wrapper.dataset.qid] = shown;
      wrapper.hidden = !shown;
      var input = wrapper.querySelector(".answer-input");
      if (input) { input.disabled = !shown; }
    });
  }

  function visibleInputs(form) {
    return Array.prototype.filter.call(form.querySelectorAll(".answer-input"), function (input) {
      return !input.disabled && !input.closest("[hidden]");
    });
  }

  function init(form) {
    applySkipLogic(form);
    form.addEventListener("input", function () { applySkipLogic(form); });
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !event.target.classList.contains("answer-input")) { return; }
      var inputs = visibleInputs(form);
      var index = inputs.indexOf(event.target);
      if (index === -1 || index === inputs.length - 1) { return; } // last one: submit
      event.preventDefault();
      inputs[index + 1].focus();
      inputs[index + 1].select();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-entry-form]").forEach(init);
  });
}());
