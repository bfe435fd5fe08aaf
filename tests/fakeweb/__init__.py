"""The fake web of ``tests/test_vanish.py``: realistic sites behind one local HTTP proxy.

Each scenario of ``tests/scenarios/vanish.yaml`` gets its own host under ``.test``
(RFC 2606), ``<scenario id>.test``, served by :class:`FakeWeb`: one
``ThreadingHTTPServer`` on 127.0.0.1, port 0, that lastseen reaches as an HTTP
proxy (``http_proxy`` / ``https_proxy``). Host names are never resolved and
nothing connects anywhere but the proxy.

- A plain request arrives as ``GET http://host/path HTTP/1.1`` (absolute URI).
- ``CONNECT host:443`` is answered 200; the socket is then wrapped server-side
  with a self-signed certificate (which does not verify for ``host``: lastseen
  captures it, flagged ``tls-unverified``) and the requests that follow are
  served as ``https://host/...``.

Per host: the scenario's target path answers with the behaviour of the current
run (:meth:`FakeWeb.step`), ``/`` with the site's home page, ``/login...`` and
``/search...`` with its login and search pages, redirect targets named in the
row with the page the row says, and any other path with the host's ``unknown``
behaviour (a realistic 404 page unless the row says otherwise). Every request is
recorded with its run, so tests can count fetches of a URL and probes of a host.

The pages are built by :func:`render` from a few fictional sites
(:data:`PROFILES`): an English surveillance vendor and a ministry's procurement
portal, a Serbian city in Cyrillic, a Serbian news portal in Latin script and a
Chinese public security bureau. Every page has a full head, header, navigation,
breadcrumbs, an article, a sidebar and a footer; text is fixed (no randomness,
no dates of today) so that runs compare what the row changes and nothing else.

The package, one module per concept: ``profile`` (what a site is), ``sites_en``, ``sites_sr``,
``sites_zh`` and ``sites`` (the sites), ``template`` (:class:`Response`, :class:`Context` and the
page template), ``pages`` and ``blockpages`` (the behaviours), ``scenarios`` (the data file) and
``proxy`` (the server).
"""

from __future__ import annotations

from .pages import BEHAVIOUR_WORDS, BEHAVIOURS, render
from .proxy import FakeWeb, proxy_env
from .scenarios import Redirect, Scenario, load_scenarios
from .sites import PROFILES
from .template import Context, Response

__all__ = [
    "BEHAVIOURS",
    "BEHAVIOUR_WORDS",
    "PROFILES",
    "Context",
    "FakeWeb",
    "Redirect",
    "Response",
    "Scenario",
    "load_scenarios",
    "proxy_env",
    "render",
]
