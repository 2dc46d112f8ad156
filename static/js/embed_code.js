// "Copy embed code" (templates/includes/embed_code.html): a convenience only. Without script the
// code stays in a read-only text box that selects with one click or Ctrl/Cmd+A.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-copy"));
    if (!box) return;
    var label = button.textContent;
    box.addEventListener("focus", function () { box.select(); });
    button.hidden = false;
    button.addEventListener("click", function () {
      box.focus();
      box.select();
      var done = function () {
        button.textContent = button.getAttribute("data-copied");
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(box.value).then(done, function () {});
      } else if (document.execCommand && document.execCommand("copy")) {
        done();
      }
    });
  });
})();
