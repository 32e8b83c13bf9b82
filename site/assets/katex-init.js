// Render the math that pymdownx.arithmatex left in \( … \) and \[ … \] spans, with the local KaTeX.
// Material's document$ emits on every page load, so this also runs after instant navigation.
function renderQuizMath(root) {
  if (typeof renderMathInElement !== "function") return;
  root.querySelectorAll(".arithmatex").forEach(function (el) {
    renderMathInElement(el, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false, // a typo in one card shows as red TeX, it does not blank the page
      strict: "ignore", // the cards use Unicode (√, ×) inside math on purpose
    });
  });
  markScrollingMath(root);
}

// A display equation wider than its column scrolls; mark it so the stylesheet shows a cue, and so a keyboard
// or screen-reader user can reach and scroll it.
function markScrollingMath(root) {
  root.querySelectorAll("div.arithmatex").forEach(function (el) {
    el.classList.remove("scrolls");
    if (el.scrollWidth > el.clientWidth + 1) {
      el.classList.add("scrolls");
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "region");
      el.setAttribute("aria-label", "Equation, scrolls sideways");
    } else if (el.getAttribute("aria-label") === "Equation, scrolls sideways") {
      el.removeAttribute("tabindex");
      el.removeAttribute("role");
      el.removeAttribute("aria-label");
    }
  });
}

document$.subscribe(function (doc) {
  renderQuizMath(doc.body);
});
window.addEventListener("resize", function () { markScrollingMath(document.body); });
