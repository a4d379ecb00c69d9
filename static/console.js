// The advocate console stays current: the server says "look again" over an event
// stream whenever the queue, a text or an alert changes, and the page fetches its
// panels. It also looks every half minute, for changes another server made.
(function () {
  "use strict";
  var panels = document.getElementById("panels");
  if (!panels) { return; }
  var announce = document.getElementById("console-announce");
  var busy = false;

  function waiting() {
    var marker = panels.querySelector("[data-waiting-count]");
    return marker ? parseInt(marker.dataset.waitingCount, 10) : 0;
  }
  var seen = waiting();

  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(panels.dataset.panels, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        panels.innerHTML = html;
        var now = waiting();
        if (now > seen) { announce.textContent = announce.dataset.newChat; }
        seen = now;
      })
      .catch(function () { /* the next event or the timer tries again */ })
      .then(function () { busy = false; });
  }

  var source = new EventSource(panels.dataset.events);
  source.addEventListener("refresh", refresh);
  window.setInterval(refresh, 30000);
})();
