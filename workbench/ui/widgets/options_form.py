"""Execution options form, built from the selected executor's OptionSpecs (nothing is hard-coded here).

Fields left alone follow the device's and the job file's defaults (shown as placeholders); what is
typed is checked on every keystroke with the CLI's rules, and the error appears next to the field.
Numbers are typed as text on purpose: a numeric widget would silently refuse ``abc`` or ``-1``
instead of saying what is wrong with it.

Credentials get password fields only when the executor asks for them. Their values stay in the
browser until a run starts: :meth:`OptionsForm.consume_credentials` moves them into the session as
:class:`~workbench.options.Secret` values and clears the fields, so a saved notebook never holds them.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from workbench.ui.session import OptionField, Session
from workbench.ui.widgets._common import ERROR_COLOUR, Guard, error_html, note_html, styled


class OptionRow(widgets.HBox):
    """One option: name, control, and help text or the inline error."""

    def __init__(self, field: OptionField, on_change: Any) -> None:
        self.name = field.name
        self.kind = field.control
        self._guard = Guard()
        spec = field.spec
        layout = widgets.Layout(width="210px", flex="0 0 210px")
        if self.kind == "bool":
            self.control = widgets.Checkbox(value=bool(field.effective), indent=False, layout=layout)
        elif self.kind == "choice":
            self.control = widgets.Dropdown(options=[(str(c), c) for c in spec.choices or ()], layout=layout)
            self.control.value = field.effective if field.effective in (spec.choices or ()) else None
        else:
            self.control = widgets.Text(value="" if field.raw is None else str(field.raw), layout=layout,
                                        placeholder=field.placeholder, continuous_update=True)
        self.control.tooltip = spec.help
        styled(self.control, "wb-option-control")
        self.label = widgets.HTML(f"<code>{html.escape(self.name)}</code>",
                                  layout=widgets.Layout(width="130px", flex="0 0 130px"))
        self.feedback = styled(widgets.HTML(), "wb-option-feedback")
        super().__init__([self.label, self.control, self.feedback])
        styled(self, "wb-option", f"wb-option-{self.name}")
        self.control.observe(lambda change: None if self._guard.active else on_change(self.name, change["new"]),
                             names="value")
        self.update(field)

    def update(self, field: OptionField) -> None:
        """Show the session's state for this field without echoing it back."""
        with self._guard():
            if self.kind == "text":
                wanted = "" if field.raw is None else str(field.raw)
                if self.control.value != wanted and not (field.raw is not None and field.error):
                    self.control.value = wanted
                self.control.placeholder = field.placeholder
            elif self.kind == "bool" and field.error is None:
                self.control.value = bool(field.effective)
            elif self.kind == "choice" and field.error is None and field.effective in (field.spec.choices or ()):
                self.control.value = field.effective
        if field.error:
            self.feedback.value = f"<span style='color:{ERROR_COLOUR}'>{html.escape(field.error)}</span>"
            self.feedback.add_class("wb-option-error")
        else:
            origin = "" if field.source in ("set here", "drawn") else f" [{field.source}]"
            self.feedback.value = note_html(field.spec.help + origin)
            self.feedback.remove_class("wb-option-error")


class OptionsForm(widgets.VBox):
    """CSS classes: ``wb-options`` (this box), ``wb-option`` and ``wb-option-<name>`` (one row each, with a
    ``wb-option-control`` and a ``wb-option-feedback``, which gets ``wb-option-error`` when invalid),
    ``wb-options-reset``, ``wb-options-message``, ``wb-credentials`` and ``wb-credential-<name>``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[str, OptionRow] = {}
        self.credentials: dict[str, widgets.Password] = {}
        self._specs: tuple[str, ...] = ()
        self._credential_names: tuple[str, ...] = ()
        self.title = widgets.HTML("<b>Execution options</b>")
        self.fields = widgets.VBox()
        self.reset = styled(widgets.Button(description="Reset to defaults", icon="undo"), "wb-options-reset")
        self.message = styled(widgets.HTML(), "wb-options-message")
        self.credentials_box = styled(widgets.VBox(), "wb-credentials")
        super().__init__([self.title, self.fields, self.reset, self.message, self.credentials_box])
        styled(self, "wb-options")
        self.reset.on_click(lambda _: self.session.reset_options())
        session.observers.append(self._on_session)
        self.refresh()

    # -- state -> widgets -----------------------------------------------------------------------
    def refresh(self) -> None:
        fields = self.session.option_fields()
        names = tuple(f.name for f in fields)
        if names != self._specs:  # another executor: another form
            for row in self.rows.values():
                row.close()
            self.rows = {f.name: OptionRow(f, self._on_change) for f in fields}
            self.fields.children = tuple(self.rows.values())
            self._specs = names
        else:
            for f in fields:
                self.rows[f.name].update(f)
        errors = [f for f in fields if f.error]
        self.message.value = error_html([f"{f.name}: {f.error}" for f in errors],
                                        prefix="Run blocked until fixed:") if errors else ""
        self._refresh_credentials()

    def _refresh_credentials(self) -> None:
        names = self.session.credential_names()
        if names != self._credential_names:
            for box in self.credentials.values():
                box.value = ""
                box.close()
            self.credentials = {n: styled(widgets.Password(description=n, placeholder="used for the next run only",
                                                           style={"description_width": "120px"}),
                                          "wb-credential", f"wb-credential-{n}") for n in names}
            self._credential_names = names
        held = self.session.pending_credentials
        note = widgets.HTML(note_html(
            "Credentials are passed to the executor for the next run and then forgotten; they are never saved "
            "in results, reports or the notebook." + (f" Held for the next run: {', '.join(held)}." if held else "")))
        if names:
            self.credentials_box.children = (widgets.HTML("<b>Credentials</b>"), *self.credentials.values(), note)
            self.credentials_box.layout.display = None
        else:
            self.credentials_box.children = ()
            self.credentials_box.layout.display = "none"

    def _on_session(self, event: str) -> None:
        if event in ("device", "options", "job", "credentials"):
            self.refresh()

    # -- widgets -> state -----------------------------------------------------------------------
    def _on_change(self, name: str, value: Any) -> None:
        self.session.set_option(name, value)

    def consume_credentials(self) -> None:
        """Move typed credentials into the session (as Secrets) and clear the fields."""
        for name, box in self.credentials.items():
            if box.value:
                value, box.value = box.value, ""
                self.session.set_credential(name, value)

    @property
    def valid(self) -> bool:
        return not self.session.option_errors()
