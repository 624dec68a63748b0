"""The interactive workbench: plain-Python state (:mod:`.session`, :mod:`.runner`) and thin ipywidgets views.

``session`` and ``runner`` never import ipywidgets, so everything a widget does can be tested (and
scripted) without a browser; :mod:`.widgets` and :mod:`.app` only display that state.
"""
