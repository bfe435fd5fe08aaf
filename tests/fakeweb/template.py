"""What a behaviour of the fake web returns (:class:`Response`) and what it renders for
(:class:`Context`: the scenario's site and article, and the request), and each site's page template:
:func:`site_page` puts a page's main content inside the site's full head, header, menu, breadcrumbs,
sidebar and footer; :func:`article_main` and :func:`message_page` build the two kinds of content most
pages have.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .profile import Article, Profile


@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class Context:
    """What a behaviour renders for: the scenario's site and article, and the request."""

    profile: Profile
    article: Article
    scheme: str
    host: str
    path: str            # with the query, as requested
    target_path: str     # the scenario's target path (for links that point back to it)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}"


HTML = "text/html; charset=utf-8"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def site_page(ctx: Context, *, title: str, main: str, crumbs: tuple[tuple[str, str], ...] = (),
          body_class: str = "page", description: str = "", main_tag: str = "main") -> str:
    """The site's full template around ``main``: head, header, menu, breadcrumbs, sidebar, footer."""
    p = ctx.profile
    nav = "\n".join(f'<li><a href="{href}">{label}</a></li>' for label, href in p.nav)
    trail = [(p.word("home"), "/"), *crumbs]
    crumb_html = " › ".join(
        f'<a href="{href}">{esc(label)}</a>' if i < len(trail) - 1 else f'<span aria-current="page">{esc(label)}</span>'
        for i, (label, href) in enumerate(trail)
    )
    q = esc(p.word("search_label"))
    opening, closing = (f'<{main_tag} id="content" class="content">', f"</{main_tag}>")
    return f"""<!doctype html>
<html lang="{p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} – {esc(p.name)}</title>
<meta name="description" content="{esc(description or p.tagline)}">
<meta property="og:site_name" content="{esc(p.name)}">
<meta property="og:title" content="{esc(title)}">
<link rel="canonical" href="{esc(ctx.url)}">
<link rel="icon" href="/static/favicon.ico">
<link rel="stylesheet" href="/static/css/main.4f2a9c81.css">
<script src="/static/js/site.b91d07e3.js" defer></script>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"site": "{p.key}"}});</script>
</head>
<body class="{body_class}">
<a class="skip-link" href="#content">{esc(p.word("skip"))}</a>
<header class="site-header">
{p.topbar}
<div class="brand"><a href="/" rel="home"><span class="logo">{esc(p.name)}</span>
<span class="tagline">{esc(p.tagline)}</span></a></div>
<form class="site-search" role="search" action="/search" method="get">
<label for="q">{q}</label><input id="q" name="q" type="search" placeholder="{q}">
<button type="submit">{esc(p.word("search_button"))}</button></form>
<nav class="main-nav" aria-label="{esc(p.word("menu"))}"><ul>
{nav}
</ul></nav>
</header>
<nav class="breadcrumbs" aria-label="breadcrumb">{esc(p.word("you_are_here"))} {crumb_html}</nav>
<div class="layout">
{opening}
{main}
{closing}
<aside class="sidebar">
{p.sidebar}
</aside>
</div>
<footer class="site-footer">
{p.footer}
</footer>
</body>
</html>
"""


def article_main(ctx: Context, article: Article, body: str, *, wrap: str = "article") -> str:
    return f"""<{wrap} class="entry">
<header class="entry-header"><p class="entry-meta">{esc(article.meta)}</p>
<h1>{esc(article.title)}</h1>
<p class="lede">{esc(article.lede)}</p></header>
<div class="entry-body">
{body}
</div>
<footer class="entry-footer"><p class="share">{esc(ctx.profile.word("share"))}</p>
<p class="updated">{esc(ctx.profile.word("updated"))}</p></footer>
</{wrap}>"""


def message_page(ctx: Context, status: int, title: str, h1: str, text: str, *, body_class: str,
                  headers: list | None = None) -> Response:
    main = f'<section class="message {body_class}">\n<h1>{esc(h1)}</h1>\n{text}\n</section>'
    return Response(status, site_page(ctx, title=title, main=main, crumbs=((title, ctx.path),),
                                  body_class=f"page {body_class}").encode(), headers or [])
