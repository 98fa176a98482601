"""The read-only web UI: deadlines, stories, feeds, the outbox and proposals in a
browser; the calendar and an Atom feed to subscribe to; the same data as JSON.

::

    server.py  WebServer: ThreadingHTTPServer in a daemon thread ──▶ app.py  WebApp.handle
    app.py     routes, token, security headers, ETag/304 ──▶ views.py (state + config → data)
                                                        ──▶ templates/*.html (Jinja, autoescape)
    svg.py     sparklines (pure)      atom.py  the Atom 1.0 feed (pure)
    static/    style.css, refresh.js (optional auto-refresh)

The runtime starts it (``web:`` in the config); the command line never imports it.
The JSON schema is in ``docs/web-api.md``.
"""
