// Repeated form rows (API arguments, return fields): add a row from the fieldset's
// <template>, remove a row. Delegated from the document, so rows in forms that htmx
// swaps in work too. Without JavaScript the form still has one blank row to fill.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var fieldset = add.closest("[data-rows]");
      var body = fieldset.querySelector("[data-rows-body]");
      var template = fieldset.querySelector("template[data-row-template]");
      var index = parseInt(body.dataset.next || "0", 10);
      body.insertAdjacentHTML("beforeend", template.innerHTML.split("__i__").join(String(index)));
      body.dataset.next = String(index + 1);
      var rows = body.querySelectorAll(".row:not(.row-head)");
      var first = rows[rows.length - 1].querySelector("input, select");
      if (first) first.focus();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest(".row");
      if (row) row.remove();
    }
  });
})();
