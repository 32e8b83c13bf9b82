// The self-test page: flip cards drawn from the bank (assets/selftest.json, generated from the cards at
// build time). Progress lives in localStorage only, so it survives reloads and never leaves the browser.
(function () {
  "use strict";
  var KEY = "transformer-proofs:selftest:v1";

  function loadProgress() {
    try {
      return JSON.parse(window.localStorage.getItem(KEY)) || {};
    } catch (e) {
      return {}; // a corrupt entry must not break the page; it is replaced on the next answer
    }
  }

  function saveProgress(progress) {
    window.localStorage.setItem(KEY, JSON.stringify(progress));
  }

  // Cards not yet known come first (never seen before seen-and-missed), then the least recently seen.
  function nextCard(cards, progress, lastId) {
    function rank(card) {
      var p = progress[card.id];
      if (!p) return [0, 0];
      return [p.known ? 2 : 1, p.last || 0];
    }
    var pool = cards.filter(function (c) { return c.id !== lastId; });
    if (pool.length === 0) pool = cards;
    pool.sort(function (a, b) {
      var ra = rank(a), rb = rank(b);
      return ra[0] - rb[0] || ra[1] - rb[1];
    });
    var best = pool.filter(function (c) { return rank(c)[0] === rank(pool[0])[0] && rank(c)[1] === rank(pool[0])[1]; });
    return best[Math.floor(Math.random() * best.length)];
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function start(root, cards) {
    var progress = loadProgress();
    var current = null;
    root.innerHTML = "";

    var status = el("div", "selftest-progress");
    var count = el("span", "selftest-count");
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
    var knew = el("button", "md-button md-button--primary selftest-knew", "I knew it");
    var again = el("button", "md-button selftest-again", "Not yet");
    var reset = el("button", "md-button selftest-reset", "Reset progress");
    buttons.append(knew, again, reset);
    root.append(status, card, buttons);

    function showProgress() {
      var known = cards.filter(function (c) { return progress[c.id] && progress[c.id].known; }).length;
      var seen = cards.filter(function (c) { return progress[c.id]; }).length;
      count.textContent = "Known: " + known + " of " + cards.length + " · seen: " + seen;
      bar.value = known;
    }

    function show(next) {
      current = next;
      card.classList.remove("flipped");
      knew.disabled = again.disabled = true;
      front.innerHTML = "";
      back.innerHTML = "";
      front.append(el("div", "flip-label", "Question · " + next.topic + " · " + next.difficulty), el("h3", null, next.title));
      var question = el("div", "flip-question");
      question.innerHTML = next.question; // generated from the cards' Markdown at build time
      front.append(question, el("p", "flip-label", "Click or press Enter to flip"));
      var answer = el("div", "flip-answer");
      answer.innerHTML = next.answer;
      var more = el("a", null, "Full card, with the proofs →");
      more.href = root.dataset.root + next.url;
      back.append(el("div", "flip-label", "Answer"), answer, more);
      if (typeof renderQuizMath === "function") renderQuizMath(card);
      showProgress();
    }

    function flip() {
      card.classList.toggle("flipped");
      knew.disabled = again.disabled = false;
    }

    function record(known) {
      var p = progress[current.id] || { seen: 0, known: false };
      p.seen += 1;
      p.known = known;
      p.last = Date.now();
      progress[current.id] = p;
      saveProgress(progress);
      show(nextCard(cards, progress, current.id));
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
    knew.addEventListener("click", function () { record(true); });
    again.addEventListener("click", function () { record(false); });
    reset.addEventListener("click", function () {
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
    fetch(root.dataset.src)
      .then(function (response) { return response.json(); })
      .then(function (cards) { start(root, cards); })
      .catch(function (error) {
        root.textContent = "Could not load the cards: " + error;
      });
  });
})();
