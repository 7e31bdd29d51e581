/* Sample dialogue editor: turns a mouse selection in a user turn into span offsets.
 *
 * The utterance is rendered as runs of text (<span data-seg data-start=N>),
 * some wrapped in <mark> for existing spans. A selection boundary is mapped
 * back to an offset in the ORIGINAL text through the run's data-start, so
 * the highlighting markup never shifts offsets. Offsets are counted in code
 * points, as the server (Python) counts them, not in UTF-16 units.
 *
 * Listeners are delegated to the document, so they keep working after htmx
 * swaps the editor fragment.
 */
(function () {
  "use strict";

  function codePoints(s) {
    return Array.from(s).length;
  }

  function runsOf(utterance) {
    return Array.prototype.slice.call(utterance.querySelectorAll("[data-seg]"));
  }

  function originalText(utterance) {
    return runsOf(utterance).map(function (run) { return run.textContent; }).join("");
  }

  /* Offset in the original text of the boundary point (node, offset). */
  function boundaryOffset(utterance, node, offset) {
    var runs = runsOf(utterance);
    for (var i = 0; i < runs.length; i++) {
      var run = runs[i];
      var start = Number(run.dataset.start);
      var text = run.firstChild;
      if (text && node === text) {
        return start + codePoints(text.data.slice(0, offset));
      }
      if (node === run) {
        return start + (offset > 0 ? codePoints(run.textContent) : 0);
      }
    }
    // The boundary sits between runs (in a <mark>, or in the paragraph): it is
    // where the first run after it starts, or the end of the text.
    var point = document.createRange();
    point.setStart(node, offset);
    for (var j = 0; j < runs.length; j++) {
      if (point.comparePoint(runs[j], 0) > 0) {
        return Number(runs[j].dataset.start);
      }
    }
    return codePoints(originalText(utterance));
  }

  function closestUtterance(node) {
    var el = node && (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
    return el ? el.closest("[data-utterance]") : null;
  }

  function formFor(turn) {
    return document.querySelector('form[data-span-form][data-turn="' + turn + '"]');
  }

  function showSelection(form, text, start, end) {
    form.elements.start.value = String(start);
    form.elements.end.value = String(end);
    var preview = form.querySelector("[data-selection-preview]");
    if (preview) {
      preview.textContent = "Selected “" + text + "” (" + start + "–" + end + ")";
      preview.classList.add("has-selection");
    }
    document.querySelectorAll(".turn.selecting").forEach(function (el) { el.classList.remove("selecting"); });
    var turn = form.closest(".turn");
    if (turn) turn.classList.add("selecting");
  }

  /* Remember the latest selection inside one utterance in that turn's tag form.
   * A collapsed selection (e.g. a click on the slot type select) keeps it. */
  function onSelectionChange() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    var range = sel.getRangeAt(0);
    // A selection that runs past the utterance (a triple click, a drag beyond
    // its end) is clamped to it.
    var utterance = closestUtterance(range.startContainer) || closestUtterance(range.endContainer);
    if (!utterance) return;
    var form = formFor(utterance.dataset.turn);
    if (!form) return;
    var full = originalText(utterance);
    var start = utterance.contains(range.startContainer)
      ? boundaryOffset(utterance, range.startContainer, range.startOffset) : 0;
    var end = utterance.contains(range.endContainer)
      ? boundaryOffset(utterance, range.endContainer, range.endOffset) : codePoints(full);
    if (end <= start) return;
    var text = Array.from(full).slice(start, end).join("");
    showSelection(form, text, start, end);
  }

  document.addEventListener("selectionchange", onSelectionChange);

  // Restore the preview of a selection that the server sent back with an error.
  function restorePreviews(root) {
    (root || document).querySelectorAll("form[data-span-form]").forEach(function (form) {
      var start = form.elements.start.value;
      var end = form.elements.end.value;
      if (start === "" || end === "") return;
      var utterance = document.querySelector('[data-utterance][data-turn="' + form.dataset.turn + '"]');
      if (!utterance) return;
      var text = Array.from(originalText(utterance)).slice(Number(start), Number(end)).join("");
      showSelection(form, text, Number(start), Number(end));
    });
  }

  document.addEventListener("DOMContentLoaded", function () { restorePreviews(document); });
  document.addEventListener("htmx:afterSettle", function () { restorePreviews(document); });
})();
