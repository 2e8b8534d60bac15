"""The report's page: its sections, its figures (plotly.js embedded once), its style, and the
check the page runs on itself once a browser has drawn it."""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timezone

import numpy as np
import plotly.graph_objects as go

PLOT_CONFIG = {"displaylogo": False, "responsive": True}  # the logo would link to plotly.com
TARGET_NAME = "validation accuracy"  # the objective, as the page names it


class Page:
    """The page's sections, and how many figures and images went into them."""

    def __init__(self) -> None:
        self.sections: list[str] = []
        self.plots = 0
        self.images = 0

    def section(self, title: str, body: str) -> None:
        self.sections.append(f"<section><h2>{esc(title)}</h2>\n{body}\n</section>")

    def figure(self, figure: go.Figure, height: int = 440) -> str:
        self.plots += 1
        figure.update_layout(template="plotly_white", height=height)
        return figure.to_html(
            full_html=False,
            include_plotlyjs=False,  # embedded once, in the head
            config=PLOT_CONFIG,
            div_id=f"plot-{self.plots}",
        )

    def render(self, title: str) -> str:
        from plotly.offline import get_plotlyjs

        made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>\n'
            f"<style>{STYLE}</style>\n"
            f"<script>{SELF_CHECK}</script>\n"
            f"<script>{get_plotlyjs()}</script>\n"
            f'</head><body data-plots="{self.plots}" data-images="{self.images}">\n'
            f"<h1>{esc(title)}</h1><p class=note>made {made}</p>\n"
            + "\n".join(self.sections)
            + '\n<pre id="report-check" hidden></pre>\n</body></html>\n'
        )


# The page checks itself once drawn and writes what it found into #report-check: figures drawn,
# images decoded and any error or console.error. A headless browser (the tests) reads it back.
SELF_CHECK = """
window.reportErrors = [];
window.addEventListener("error", function (e) {
  var t = e.target || {};
  window.reportErrors.push(e.message || ("cannot load " + (t.src || t.href || t.tagName)));
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.reportErrors.push("unhandled rejection: " + e.reason);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.reportErrors.push(Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  setTimeout(function () {
    var plots = Array.prototype.slice.call(document.querySelectorAll(".plotly-graph-div"));
    var images = Array.prototype.slice.call(document.querySelectorAll("img"));
    document.getElementById("report-check").textContent = JSON.stringify({
      plots: plots.length,
      drawn: plots.filter(function (p) { return p.querySelector(".main-svg"); }).length,
      images: images.length,
      loaded: images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
      errors: window.reportErrors
    });
  }, 500);
});
"""

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { padding: .15em .8em .15em 0; text-align: left; vertical-align: top; }
table.trials td, table.trials th { border-bottom: 1px solid #eee; text-align: right; }
.note { color: #666; }
.absent { color: #8a5a00; background: #fff8e6; padding: .5em .8em; }
.gallery { display: flex; flex-wrap: wrap; gap: 10px; }
.gallery figure { margin: 0; width: 124px; font-size: 12px; text-align: center; }
.gallery img { width: 112px; height: 112px; image-rendering: pixelated; object-fit: contain;
               border: 1px solid #ccc; }
.big { font-size: 1.3em; }
"""


def png_data_url(image: np.ndarray) -> str:
    """A data: URL of a (height, width, channels) uint8 image."""
    from PIL import Image

    pixels = image[..., 0] if image.shape[-1] == 1 else image
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def absent(sentence: str) -> str:
    return f'<p class="absent">{esc(sentence)}</p>'


def esc(text: object) -> str:
    return html.escape(str(text))
