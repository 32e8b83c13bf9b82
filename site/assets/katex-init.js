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
}

document$.subscribe(function (doc) {
  renderQuizMath(doc.body);
});
