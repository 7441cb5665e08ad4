// MathJax 3 configuration for pymdownx.arithmatex in generic mode: it wraps
// inline maths in \( ... \) and display maths in \[ ... \] inside elements of
// class "arithmatex", and MathJax typesets only those elements.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  }
};
