"""Sphinx configuration: the API reference from the package's docstrings, plus the guides (docs/*.md).

Build (offline: no intersphinx), as tests/install-and-test.sh does::

    python -m sphinx -W --keep-going -n -q -b html docs build/docs

Nitpicky mode (``-n``) checks every cross-reference into the package. References to other libraries
(numpy, xarray, pydantic, ...) cannot be resolved without downloading their inventories, so they are
ignored, as are private helpers that appear in signatures.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # document this checkout

import workbench

# Import every module before autodoc runs. Sphinx 9 writes the source annotations of each documented
# class's bases into their ``__annotations__`` (pydantic's BaseModel included); a pydantic model with
# ``extra="allow"`` created after that fails to build, one built before is unaffected.
for _module in pkgutil.walk_packages(workbench.__path__, "workbench."):
    if not _module.name.endswith("__main__"):
        importlib.import_module(_module.name)

project = "Quantum Executor Workbench"
author = "Quantum Executor Workbench developers"
release = version = workbench.__version__

extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_preserve_defaults = True
add_module_names = False

myst_heading_anchors = 3  # GitHub's heading anchors, so links like cli.md#exit-codes resolve

nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!workbench\b).*"),  # another library's name: no inventory offline
    (r"py:.*", r"workbench(\.\w+)*\._\w+(\.\w+)*"),  # a private helper named in a signature
]

html_theme = "alabaster"
html_title = f"{project} {release}"
html_show_sourcelink = False


def _canonical(target: str) -> str | None:
    """``workbench.run`` -> ``workbench.api.run``: where a re-exported object is documented (its
    ``__module__`` and ``__qualname__``), so that docstrings may name it the way users import it."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return None
        module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if not (isinstance(module, str) and isinstance(qualname, str)):
            return None
        canonical = f"{module}.{qualname}"
        return canonical if canonical != target else None
    return None


def _resolve_reexport(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """``missing-reference`` handler: retry a ``workbench.*`` reference under its canonical name."""
    if node.get("refdomain") != "py" or not node.get("reftarget", "").startswith("workbench"):
        return None
    canonical = _canonical(node["reftarget"])
    if canonical is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode)


def setup(app: Any) -> None:
    app.connect("missing-reference", _resolve_reexport)
