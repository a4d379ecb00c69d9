// Quick exit: leave for a neutral site and replace this page in the history, so the
// Back button does not return here. Also on Escape pressed three times in 2 seconds.
(function () {
  "use strict";
  var link = document.querySelector("[data-quick-exit]");
  if (!link) { return; }
  var target = link.getAttribute("href");
  function leave(event) {
    if (event) { event.preventDefault(); }
    document.body.style.display = "none";
    document.title = "";
    window.location.replace(target);
  }
  link.addEventListener("click", leave);
  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 2000; });
    presses.push(now);
    if (presses.length >= 3) { leave(event); }
  });
})();
