// The self-test page: flip cards drawn from the bank (inlined into the page at build time, so it works from a
// folder opened as file://, where fetch is refused). Progress lives in localStorage only, so it survives
// reloads and never leaves the browser.
var QuizSelftest = (function () {
  "use strict";
  var KEY = "transformer-proofs:selftest:v1";
  // A card marked "Not yet" comes back after this many other cards (or as soon as nothing else is left).
  var AGAIN_AFTER = 3;

  function loadProgress() {
    try {
      var progress = JSON.parse(window.localStorage.getItem(KEY)) || {};
      return typeof progress === "object" ? progress : {};
    } catch (e) {
      return {}; // a corrupt entry must not break the page; it is replaced on the next answer
    }
  }

  function saveProgress(progress) {
    try { window.localStorage.setItem(KEY, JSON.stringify(progress)); } catch (e) { /* private mode */ }
  }

  // The order: a missed card once AGAIN_AFTER other cards have been graded since, then cards never seen, then
  // missed cards not yet due, then known cards, least recently seen first. `step` counts grades ever given.
  function nextCard(cards, progress, lastId) {
    var step = progress._step || 0;
    function rank(card) {
      var p = progress[card.id];
      if (!p) return [1, 0];
      if (!p.known) return (p.step || 0) + AGAIN_AFTER <= step ? [0, p.step || 0] : [2, p.step || 0];
      return [3, p.last || 0];
    }
    var pool = cards.filter(function (c) { return c.id !== lastId; });
    if (pool.length === 0) pool = cards;
    var ranked = pool.map(function (c) { return { card: c, rank: rank(c) }; });
    ranked.sort(function (a, b) { return a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1]; });
    var top = ranked[0].rank;
    var best = ranked.filter(function (r) { return r.rank[0] === top[0] && r.rank[1] === top[1]; });
    return best[Math.floor(Math.random() * best.length)].card;
  }

  function grade(progress, id, known) {
    var step = (progress._step || 0) + 1;
    var p = progress[id] || { seen: 0, known: false };
    p.seen += 1;
    p.known = known;
    p.last = Date.now();
    p.step = step;
    progress[id] = p;
    progress._step = step;
    return progress;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function button(cls, text, key) {
    var b = el("button", cls, text);
    b.type = "button";
    if (key) {
      var hint = el("kbd", "selftest-key", key);
      hint.setAttribute("aria-hidden", "true");
      b.append(hint);
      b.setAttribute("aria-keyshortcuts", key);
    }
    return b;
  }

  function start(root, cards) {
    var progress = loadProgress();
    var current = null;
    root.innerHTML = "";

    var status = el("div", "selftest-progress");
    var count = el("span", "selftest-count");
    count.setAttribute("aria-live", "polite");
    var bar = el("progress");
    bar.max = cards.length;
    status.append(count, bar);

    var card = el("div", "flip-card");
    card.setAttribute("role", "button");
    card.setAttribute("tabindex", "0");
    card.setAttribute("aria-label", "Flip the card");
    var inner = el("div", "flip-inner");
    var front = el("div", "flip-face flip-front");
    var back = el("div", "flip-face flip-back");
    inner.append(front, back);
    card.append(inner);

    var buttons = el("div", "selftest-buttons");
    var knew = button("md-button md-button--primary selftest-knew", "I knew it", "1");
    var again = button("md-button selftest-again", "Not yet", "2");
    var exporter = button("selftest-export", "Export progress");
    var reset = button("selftest-reset", "Reset progress…");
    buttons.append(knew, again, exporter, reset);
    root.append(status, card, buttons);

    function showProgress() {
      var known = cards.filter(function (c) { return progress[c.id] && progress[c.id].known; }).length;
      var seen = cards.filter(function (c) { return progress[c.id]; }).length;
      var text = "Known: " + known + " of " + cards.length + " · seen: " + seen;
      if (known === cards.length) text += " · all known; the least recently seen come round again";
      count.textContent = text;
      count.classList.toggle("selftest-done", known === cards.length);
      bar.value = known;
    }

    function setFlipped(flipped) {
      card.classList.toggle("flipped", flipped);
      // The face turned away is out of the tab order and hidden from screen readers.
      front.inert = flipped;
      back.inert = !flipped;
      front.setAttribute("aria-hidden", flipped ? "true" : "false");
      back.setAttribute("aria-hidden", flipped ? "false" : "true");
      knew.disabled = again.disabled = !flipped;
    }

    function show(next) {
      current = next;
      // Turn back to the front with no animation before the faces change: an animated turn would show the
      // next card's answer on the back face while it swings away.
      inner.classList.add("instant");
      setFlipped(false);
      void inner.offsetWidth; // apply the un-animated turn now
      inner.classList.remove("instant");
      front.innerHTML = "";
      back.innerHTML = "";
      // Only the question on the front: several titles state the answer.
      front.append(el("div", "flip-label", "Question · " + next.topic + " · " + next.difficulty));
      var question = el("div", "flip-question");
      question.innerHTML = next.question; // generated from the cards' Markdown at build time
      front.append(question, el("p", "flip-label", "Click, tap or press Enter to flip"));
      var answer = el("div", "flip-answer");
      answer.innerHTML = next.answer;
      var more = el("a", null, next.title + ": the full card, with the proofs →");
      more.href = root.dataset.root + next.url;
      back.append(el("div", "flip-label", "Answer · grade it with 1 (knew it) or 2 (not yet)"), answer, more);
      if (typeof renderQuizMath === "function") renderQuizMath(card);
      showProgress();
    }

    function flip() {
      setFlipped(!card.classList.contains("flipped"));
    }

    function record(known) {
      if (!card.classList.contains("flipped")) return; // no verdict before the answer has been seen
      progress = grade(progress, current.id, known);
      saveProgress(progress);
      show(nextCard(cards, progress, current.id));
      card.focus();
    }

    card.addEventListener("click", function (event) {
      if (event.target.closest("a")) return; // following the link is not a flip
      flip();
    });
    card.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        flip();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (!document.body.contains(root) || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
      if (event.key === "1" || event.key === "y") { event.preventDefault(); record(true); }
      else if (event.key === "2" || event.key === "n") { event.preventDefault(); record(false); }
    });
    knew.addEventListener("click", function () { record(true); });
    again.addEventListener("click", function () { record(false); });
    exporter.addEventListener("click", function () {
      if (typeof QuizSite !== "undefined") QuizSite.exportProgress();
    });
    reset.addEventListener("click", function () {
      if (!window.confirm("Forget which cards you knew? This cannot be undone.")) return;
      progress = {};
      saveProgress(progress);
      show(nextCard(cards, progress, null));
    });
    show(nextCard(cards, progress, null));
  }

  document$.subscribe(function () {
    var root = document.getElementById("selftest");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    var data = document.getElementById("selftest-data");
    try {
      start(root, JSON.parse(data.textContent));
    } catch (error) {
      root.textContent = "Could not load the cards: " + error;
    }
  });

  return { nextCard: nextCard, grade: grade, AGAIN_AFTER: AGAIN_AFTER };
})();
