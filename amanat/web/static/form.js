// The intake form's one enhancement (the form works without it): a chosen file over the server's limit is taken
// off the form at once, with the form's own translated message, so that sending never fails on it and loses
// the answers typed. Loaded as a file: the CSP allows no inline script.
"use strict";
(function () {
  var form = document.getElementById("af-form");
  if (!form || !form.dataset.maxFileBytes) { return; }
  var max = Number(form.dataset.maxFileBytes);
  var message = document.getElementById("af-file-too-large");
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!input || input.type !== "file" || !input.files) { return; }
    var tooLarge = Array.prototype.some.call(input.files, function (f) { return f.size > max; });
    if (tooLarge) {
      input.value = "";
      input.setAttribute("aria-invalid", "true");
      if (message) {
        message.hidden = false;
        input.parentNode.appendChild(message);  // next to the field that was refused
      }
      input.focus();
    } else {
      input.removeAttribute("aria-invalid");
      if (message) { message.hidden = true; }
    }
  });
}());
