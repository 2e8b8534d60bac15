"""The camera pages' HTML: a page's file with the camera's script and its settings put in, one
self-contained page (no script, style or font from the network)."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any


def page_html(name: str, settings: dict[str, Any]) -> str:
    """``name``.html of this package, with camera.js and ``settings`` (as JSON) in place."""
    here = files(__package__)
    html = (here / f"{name}.html").read_text(encoding="utf-8")
    script = (here / "camera.js").read_text(encoding="utf-8")
    # "</" cannot end the script early inside a JSON string: written as "<\/".
    data = json.dumps(settings).replace("</", "<\\/")
    return html.replace("/*CAMERA_JS*/", script).replace("/*SETTINGS*/", data)
