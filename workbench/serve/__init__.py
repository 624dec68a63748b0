"""``workbench serve``: a Tergite-compatible backend and a QHAna circuit-executor plugin, one ASGI app.

Both services sit on the same core, queue and devices as the CLI and the widgets: a request becomes a
stored job (:mod:`.store`), a worker runs it through :mod:`workbench.api` (:mod:`.runner`), and the
run is kept in the data directory like ``workbench run --datadir``. FastAPI is imported only inside
this package (by :mod:`.app` and the routers), so ``import workbench`` stays fast.
"""
