// Test console: pointer highlighting, span selection for corrections, keyboard shortcuts.
(function () {
  "use strict";

  function marks(key) {
    return key ? document.querySelectorAll('[data-entity-key="' + CSS.escape(key) + '"]') : [];
  }
  function point(event, on) {
    var arg = event.target.closest && event.target.closest(".argument[data-points-to]");
    if (!arg) return;
    marks(arg.getAttribute("data-points-to")).forEach(function (el) { el.classList.toggle("pointed", on); });
  }
  document.addEventListener("mouseover", function (e) { point(e, true); });
  document.addEventListener("mouseout", function (e) { point(e, false); });
  document.addEventListener("focusin", function (e) { point(e, true); });
  document.addEventListener("focusout", function (e) { point(e, false); });

  // Selecting words of the utterance being corrected fills in the new span's words.
  document.addEventListener("mouseup", function () {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed) return;
    var node = sel.anchorNode && (sel.anchorNode.nodeType === 1 ? sel.anchorNode : sel.anchorNode.parentElement);
    var turn = node && node.closest(".correcting");
    if (!turn) return;
    var input = turn.querySelector(".new-span-text");
    if (input) input.value = sel.toString().trim();
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      var cancel = document.querySelector(".correcting button[name=cancel]");
      if (cancel) { e.preventDefault(); cancel.click(); }
    } else if (e.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      var say = document.getElementById("say-input");
      if (say) { e.preventDefault(); say.focus(); }
    }
  });
})();
