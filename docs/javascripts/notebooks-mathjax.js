// The notebooks' pages (docs/notebooks_hook.py, rendered by mkdocs-jupyter) keep the maths of their
// Markdown cells as $...$ and $$...$$ inside elements of class "jp-MarkdownOutput": typeset those
// too. Loaded after mathjax.js (the configuration for the other pages) and before MathJax itself;
// the other pages are unchanged, as MathJax still looks only inside the classes named here.
window.MathJax.tex.inlineMath.push(["$", "$"]);
window.MathJax.tex.displayMath.push(["$$", "$$"]);
window.MathJax.options.processHtmlClass += "|jp-MarkdownOutput";
