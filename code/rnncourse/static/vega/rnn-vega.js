// Draws the book's interactive figures (rnncourse.interactive): every <div class="rnn-vega">
// holds its Vega-Lite spec as inline JSON; Vega-Embed, served from this book, draws it as SVG
// with its slider. No network: the spec carries its data.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("div.rnn-vega").forEach(function (box) {
      if (box.dataset.drawn) { return; }
      var source = box.querySelector('script[type="application/json"]');
      if (!source || typeof vegaEmbed !== "function") { return; }
      box.dataset.drawn = "pending";
      var view = document.createElement("div");
      view.className = "rnn-vega-view";
      box.appendChild(view);
      vegaEmbed(view, JSON.parse(source.textContent), { actions: false, renderer: "svg" })
        .then(function () { box.dataset.drawn = "yes"; })
        .catch(function (err) { box.dataset.drawn = "failed"; console.error(err); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
