"""The interactive workbench: plain-Python state (:mod:`.session`, :mod:`.runner`, :mod:`.tuneup`) and thin
ipywidgets views.

``session``, ``runner`` and ``tuneup`` never import ipywidgets, so everything a widget does can be tested (and
scripted) without a browser; :mod:`.widgets` and :mod:`.app` only display that state.
"""
