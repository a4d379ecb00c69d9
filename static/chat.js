// Web chat, for the visitor and for the advocate. Every message has a number; after a
// dropped connection the page asks for everything after the last number it has and
// sends again, under the same ids, what the server had not confirmed, so nothing is
// lost or shown twice. A visitor's chat token lives in this closure only: nothing is
// written to cookies or browser storage, and leaving (the end button, quick exit or
// closing the page) forgets the conversation.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) { return; }
  root.hidden = false;
  var role = root.dataset.role;
  var log = document.getElementById("chat-log");
  var statusLine = document.getElementById("chat-status");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-text");
  var token = null;
  var language = null;
  var lastSeq = 0;
  var socket = null;
  var ended = false;
  var retries = 0;
  var outbox = [];

  function say(key) { statusLine.textContent = root.dataset[key] || ""; }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function line(mine, text, pending) {
    var item = document.createElement("p");
    item.className = "atip-chat-line " + (mine ? "atip-chat-mine" : "atip-chat-theirs");
    var who = document.createElement("strong");
    who.textContent = (mine ? root.dataset.you : root.dataset.them) + ": ";
    item.appendChild(who);
    item.appendChild(document.createTextNode(text));
    if (pending) {
      var note = document.createElement("span");
      note.className = "atip-chat-note";
      note.textContent = " (" + root.dataset.sending + ")";
      item.appendChild(note);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); }
  }

  function flush() {
    outbox.forEach(function (m) {
      if (!m.held) { send({ type: "send", id: m.id, text: m.text }); }
    });
  }

  function finish() {
    ended = true;
    input.disabled = true;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  }

  function handle(frame) {
    switch (frame.type) {
      case "started":
        token = frame.token;
        var code = document.getElementById("chat-return-value");
        if (code) {
          code.textContent = frame.return_code;
          document.getElementById("chat-return").hidden = false;
        }
        flush();
        break;
      case "status":
        say(frame.status);
        if (role === "visitor" && (frame.status === "left" || frame.status === "closed")) { finish(); }
        if (role === "advocate" && frame.status === "closed") { finish(); }
        break;
      case "message":
        if (frame.seq <= lastSeq) { return; }
        lastSeq = frame.seq;
        var mine = frame.from === role;
        if (mine) {
          outbox = outbox.filter(function (m) {
            if (m.id !== frame.id) { return true; }
            m.item.remove();
            return false;
          });
        }
        line(mine, frame.text, false);
        break;
      case "refused":
        outbox.forEach(function (m) {
          if (m.id !== frame.id) { return; }
          if (frame.reason === "too-fast") {
            m.held = true;
            say("tooFast");
            setTimeout(function () {
              m.held = false;
              send({ type: "send", id: m.id, text: m.text });
            }, (frame.retry_after || 2) * 1000);
          } else {
            m.item.remove();
            m.gone = true;
            if (frame.reason === "too-long") { input.value = m.text; say("tooLong"); }
            if (frame.reason === "ended") { say("ended"); finish(); }
          }
        });
        outbox = outbox.filter(function (m) { return !m.gone; });
        break;
      case "error":
        if (frame.reason === "unknown-chat") { say("failed"); finish(); }
        break;
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.socket);
    socket.onopen = function () {
      retries = 0;
      if (role === "advocate") {
        send({ type: "join", after: lastSeq });
        flush();
      } else if (token) {
        send({ type: "resume", token: token, after: lastSeq });
        flush();
      } else {
        var given = document.getElementById("chat-return-code");
        send({ type: "start", language: language, return_code: given && given.value ? given.value : null });
      }
    };
    socket.onmessage = function (event) {
      try { handle(JSON.parse(event.data)); } catch (e) { /* a frame we do not know */ }
    };
    socket.onclose = function () {
      socket = null;
      if (ended) { return; }
      say("reconnecting");
      retries += 1;
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retries)));
    };
  }

  function leave() {
    if (role !== "visitor" || ended) { return; }
    send({ type: "leave" });
    finish();
    token = null;
    outbox = [];
    log.textContent = "";
    if (socket) { socket.close(); }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || ended) { return; }
    var m = { id: newId(), text: text };
    m.item = line(true, text, true);
    outbox.push(m);
    input.value = "";
    send({ type: "send", id: m.id, text: m.text });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  if (role === "advocate") {
    connect();
    return;
  }
  var chooser = document.getElementById("chat-language");
  var room = document.getElementById("chat-room");
  chooser.querySelectorAll("[data-language]").forEach(function (button) {
    button.addEventListener("click", function () {
      language = button.dataset.language;
      chooser.hidden = true;
      room.hidden = false;
      say("waiting");
      connect();
      input.focus();
    });
  });
  document.getElementById("chat-end").addEventListener("click", function () {
    leave();
    say("ended");
  });
  var exit = document.querySelector("[data-quick-exit]");
  if (exit) { exit.addEventListener("click", leave); }
  window.addEventListener("pagehide", leave);
})();
