"""`workbench lab`'s working copy of the notebooks, without starting JupyterLab (tests/browser starts it)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from workbench.cli import lab
from workbench.errors import UnsupportedError

REPO = Path(__file__).resolve().parents[1]


def test_the_checkout_is_found_and_copied_once(tmp_path):
    source = lab.checkout_notebooks()
    assert source == REPO / "notebooks"
    names = sorted(p.name for p in source.glob("*.ipynb"))
    target = tmp_path / "deep" / "copy"
    copied, kept = lab.working_copy(target, source)
    assert (copied, kept) == (names, [])
    assert all((target / n).read_bytes() == (source / n).read_bytes() for n in names)
    assert sorted(p.name for p in target.iterdir()) == names  # no temporary files left

    (target / lab.NOTEBOOK).write_text("my own version")
    (target / names[-1]).unlink()  # a notebook the user deleted comes back; the edited one stays
    copied, kept = lab.working_copy(target, source)
    assert copied == [names[-1]] and lab.NOTEBOOK in kept
    assert (target / lab.NOTEBOOK).read_text() == "my own version"


def test_a_link_in_the_working_copy_is_never_written_through(tmp_path):
    source = lab.checkout_notebooks()
    target = tmp_path / "copy"
    target.mkdir()
    elsewhere = tmp_path / "elsewhere.ipynb"
    elsewhere.write_text("not to be touched")
    (target / lab.NOTEBOOK).symlink_to(elsewhere)
    copied, kept = lab.working_copy(target, source)
    assert lab.NOTEBOOK in kept and lab.NOTEBOOK not in copied
    assert elsewhere.read_text() == "not to be touched"


def test_without_a_checkout_an_existing_working_copy_is_enough(tmp_path, monkeypatch):
    """Outside a clone (a wheel install), lab refuses until a working copy exists, with one line saying why."""
    monkeypatch.setattr(lab, "checkout_notebooks", lambda: None)
    args = argparse.Namespace(notebook_dir=str(tmp_path / "copy"), lab_args=[], port=None, no_browser=True)
    with pytest.raises(UnsupportedError, match="clone the repository and run 'workbench lab' inside it once"):
        lab.command(args)
    assert lab.working_copy(tmp_path / "copy", None) == ([], [])
