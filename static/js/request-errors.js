// Failed htmx requests say so where the user acted, keep what was typed, and offer to retry.
//
// By itself htmx shows nothing when a request fails: an error status it does not swap in,
// a lost connection or a timeout leaves the page as if the click had not happened. Here
// each of those puts a message (with a Retry button that issues the same request again)
// at the top of the form the request came from, or just after the element when it is not
// in a form. Nothing is swapped, so the form keeps what was typed. The message goes when
// a request from the same element succeeds.
//
// Error responses that a page swaps in on purpose (the console's 400 fragments naming
// the field, see its htmx-config responseHandling) are the server's own message: they
// get no second one.
(function () {
  "use strict";
  if (!window.htmx) return;

  // A request unanswered after this long is given up (htmx's default is to wait forever). A
  // page can set its own in its htmx-config meta tag, an element with hx-request='{"timeout": ms}'.
  var TIMEOUT_MS = 30000;
  if (!htmx.config.timeout) htmx.config.timeout = TIMEOUT_MS;

  var boxes = new WeakMap(); // the element a request came from -> its message

  function source(detail) {
    // detail.elt is rebound when htmx re-fires an event on another element (the source was swapped out).
    return (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
  }

  function clear(elt) {
    var box = boxes.get(elt);
    if (box) {
      box.remove();
      boxes.delete(elt);
    }
  }

  function retry(elt, detail) {
    var config = detail.requestConfig || {};
    var event = config.triggeringEvent;
    if (event && event.type === "submit" && elt.tagName === "FORM") {
      // Clicking the same submit button again sends its name and value too, as the first time.
      var submitter = event.submitter;
      if (submitter && submitter.isConnected && submitter.form === elt) submitter.click();
      else elt.requestSubmit();
    } else {
      // The element's own attributes again (target, swap, values, indicator); no second hx-confirm.
      htmx.ajax(config.verb || "get", config.path, { source: elt });
    }
  }

  // The message: what went wrong, that nothing typed is lost (in a form with fields), what to do.
  function show(detail, problem, advice) {
    var elt = source(detail);
    if (!elt || !elt.isConnected) return; // swapped out meanwhile: nowhere left to say it
    clear(elt);
    var form = elt.tagName === "FORM" ? elt : elt.closest("form");
    var fields = form && form.querySelector("textarea, select, input:not([type=hidden]):not([type=submit]):not([type=button])");
    var box = document.createElement("div");
    box.className = "request-error";
    box.setAttribute("role", "alert");
    var text = document.createElement("span");
    text.className = "request-error-text";
    // textContent, never markup: the status text comes from the server.
    text.textContent = [problem, fields ? "What you typed is still here." : "", advice].filter(Boolean).join(" ");
    var again = document.createElement("button");
    again.type = "button";
    again.className = "small request-retry";
    again.textContent = "Retry";
    again.addEventListener("click", function () {
      again.disabled = true;
      again.textContent = "Retrying…";
      retry(elt, detail);
    });
    box.append(text, " ", again);
    if (form) form.prepend(box);
    else elt.insertAdjacentElement("afterend", box);
    boxes.set(elt, box);
  }

  function showStatus(detail) {
    var xhr = detail.xhr;
    var status = xhr ? xhr.status : 0;
    var code = "(error " + status + (xhr && xhr.statusText ? " " + xhr.statusText : "") + ").";
    if (status >= 500) show(detail, "The server failed on this request " + code, "Retry, or reload the page later.");
    else if (status === 403) show(detail, "The server refused this request " + code, "Your session may have ended: reload the page.");
    else if (status === 404) show(detail, "The server could not find what this request is for " + code, "The page may be out of date: reload it.");
    else show(detail, "The server refused this request " + code, "");
  }

  document.addEventListener("htmx:beforeSwap", function (e) {
    // Listeners on the document run last: what the page decided about swapping is final here.
    if (e.detail.isError && e.detail.shouldSwap && e.detail.xhr) e.detail.xhr.colloquySwapped = true;
  });
  document.addEventListener("htmx:responseError", function (e) {
    if (e.detail.xhr && e.detail.xhr.colloquySwapped) return;
    showStatus(e.detail);
  });
  document.addEventListener("htmx:sendError", function (e) {
    show(e.detail, "Could not reach the server.", "Check your connection, then retry.");
  });
  document.addEventListener("htmx:timeout", function (e) {
    var ms = (e.detail.requestConfig && e.detail.requestConfig.timeout) || htmx.config.timeout;
    var seconds = Math.round(ms / 1000);
    show(e.detail, "The server did not answer within " + seconds + " s.", "It may still be at work: retry, or reload the page to see what was done.");
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.successful) clear(source(e.detail));
  });
})();
