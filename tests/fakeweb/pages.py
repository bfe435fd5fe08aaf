"""The behaviours of the fake web: what a URL may serve, by name (:data:`BEHAVIOURS`, what ``serve``
in ``tests/scenarios/vanish.yaml`` may say), how the docs table words each one
(:data:`BEHAVIOUR_WORDS`), and :func:`render`, which builds one for a request. The site's own
pages (article, edited or redesigned article, 404, 410, 403, soft 404s, home, login, search,
signpost) are built here on the site template; pages from in front of the site come from
``blockpages``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .blockpages import (
    block_cloudflare,
    challenge_cloudflare,
    forbidden_akamai,
    rate_limited,
    status_401,
    status_503,
)
from .profile import Article
from .sites import MINISTRY, NOT_FOUND_UI
from .template import (
    HTML,
    Context,
    Response,
    article_main,
    esc,
    message_page,
    site_page,
)


def _article_page(ctx: Context, article: Article, body: str | None = None) -> Response:
    main = article_main(ctx, article, article.body if body is None else body)
    crumbs = (article.section, (article.title, article.path))
    return Response(200, site_page(ctx, title=article.title, main=main, crumbs=crumbs, body_class="page article",
                               description=article.lede).encode())


def _edited(article: Article) -> str:
    body = article.body
    for old, new in article.edits:
        if old not in body:
            raise AssertionError(f"the edit {old!r} of {article.path} does not match its text")
        body = body.replace(old, new)
    return body


def _not_found(lang: str, status: int):
    def build(ctx: Context) -> Response:
        ui = NOT_FOUND_UI[lang]
        return message_page(ctx, status, ui["nf_title"], ui["nf_h1"], ui["nf_text"], body_class="error-404")
    return build


def _not_found_404(ctx: Context) -> Response:
    """The site's own 404 page, in its language."""
    lang = {"sr-Cyrl": "sr-cyrl", "sr-Latn": "sr-latn", "zh-CN": "zh"}.get(ctx.profile.lang, "en")
    return _not_found(lang, 404)(ctx)


def _article(ctx: Context) -> Response:
    return _article_page(ctx, ctx.article)


def _article_edited(ctx: Context) -> Response:
    return _article_page(ctx, ctx.article, _edited(ctx.article))


def _article_mentions_404(ctx: Context) -> Response:
    return _article_page(ctx, MINISTRY.articles["regulation-404"])


def _article_redesigned(ctx: Context) -> Response:
    """The same article after a redesign: no ``<main>``, no ``<article>`` (``select: main article`` misses)."""
    a, p = ctx.article, ctx.profile
    main = article_main(ctx, a, a.body, wrap="div")
    page = site_page(ctx, title=a.title, main=main, crumbs=(a.section, (a.title, a.path)),
                 body_class="page post-2024", description=a.lede, main_tag="div")
    assert "<main" not in page and "<article" not in page, p.key
    return Response(200, page.encode())


def _emptied(ctx: Context) -> Response:
    a = ctx.article
    main = f'<article class="entry">\n<p class="notice">{esc(ctx.profile.word("emptied"))}</p>\n</article>'
    return Response(200, site_page(ctx, title=a.title, main=main, crumbs=(a.section, (a.title, a.path)),
                               body_class="page article").encode())


def _gone(ctx: Context) -> Response:
    p = ctx.profile
    return message_page(ctx, 410, p.word("gone_title"), p.word("gone_h1"), p.word("gone_text"), body_class="error-410")


def _forbidden(ctx: Context) -> Response:
    p = ctx.profile
    return message_page(ctx, 403, p.word("forbidden_title"), p.word("forbidden_h1"), p.word("forbidden_text"),
                         body_class="error-403")


def _generic_unknown(ctx: Context) -> Response:
    p = ctx.profile
    return message_page(ctx, 200, p.word("unavailable_title"), p.word("unavailable_h1"), p.word("unavailable_text"),
                         body_class="unavailable")


def _home(ctx: Context) -> Response:
    p = ctx.profile
    items = "\n".join(
        f'<li class="teaser"><time>{esc(date)}</time> <a href="{href}">{esc(title)}</a> '
        f'<a class="more" href="{href}">{esc(p.word("more"))}</a></li>'
        for date, title, href in p.news
    )
    main = (f'<section class="hero"><h1>{esc(p.word("home_title"))}</h1><p>{esc(p.word("home_lede"))}</p></section>\n'
            f'<section class="news"><h2>{esc(p.word("latest"))}</h2><ul class="news-list">\n{items}\n</ul></section>')
    page = site_page(ctx, title=p.word("home_title"), main=main, body_class="home")
    return Response(200, page.encode())


def _login(ctx: Context) -> Response:
    p = ctx.profile
    nxt = parse_qs(urlsplit(ctx.path).query).get("next", ["/"])[0]
    main = f"""<section class="login"><h1>{esc(p.word("login_h1"))}</h1>
<form method="post" action="/login" class="login-form">
<input type="hidden" name="next" value="{esc(nxt)}">
<input type="hidden" name="csrfmiddlewaretoken" value="Vq3kP9xR2mT7wL1sN8bC4dF6gH0jK5zY">
<label for="username">{esc(p.word("login_user"))}</label>
<input id="username" name="username" type="text" autocomplete="username" required>
<label for="password">{esc(p.word("login_pass"))}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label><input type="checkbox" name="remember"> Keep me signed in on this device</label>
<button type="submit">{esc(p.word("login_button"))}</button>
</form>
{p.word("login_help")}
</section>"""
    return Response(200, site_page(ctx, title=p.word("login_title"), main=main, crumbs=((p.word("login_title"), "/login"),),
                               body_class="page login").encode())


def _search(ctx: Context) -> Response:
    p = ctx.profile
    q = parse_qs(urlsplit(ctx.path).query).get("q", [""])[0]
    main = f"""<section class="search-results"><h1>{esc(p.word("search_h1"))}</h1>
<form action="/search" method="get"><input name="q" type="search" value="{esc(q)}">
<button type="submit">{esc(p.word("search_button"))}</button></form>
<div class="facets"><h2>Filter</h2><ul><li>All sections</li><li>News</li><li>Documents</li><li>Pages</li></ul>
<h2>Date</h2><ul><li>Any time</li><li>Past year</li><li>Past month</li></ul></div>
<p class="result-count">{esc(p.word("search_none").format(q=q))}</p>
{p.word("search_help")}
</section>"""
    return Response(200, site_page(ctx, title=p.word("search_title"), main=main, crumbs=((p.word("search_title"), "/search"),),
                               body_class="page search").encode())


def _signpost(ctx: Context) -> Response:
    p = ctx.profile
    return message_page(ctx, 200, p.word("signpost_title"), p.word("signpost_h1"), p.word("signpost_text"),
                         body_class="signpost")


#: Named behaviours of a URL: what ``serve`` in the data file may say. Each builds a Response.
BEHAVIOURS = {
    "article": _article,
    "article-edited": _article_edited,
    "article-mentions-404": _article_mentions_404,
    "article-redesigned": _article_redesigned,
    "emptied": _emptied,
    "not-found-404": _not_found_404,
    "gone-410": _gone,
    "soft-404-en": _not_found("en", 200),
    "soft-404-sr-cyrl": _not_found("sr-cyrl", 200),
    "soft-404-sr-latn": _not_found("sr-latn", 200),
    "soft-404-zh": _not_found("zh", 200),
    "generic-unknown": _generic_unknown,
    "home": _home,
    "login": _login,
    "search": _search,
    "signpost": _signpost,
    "status-503": status_503,
    "status-401": status_401,
    "forbidden": _forbidden,
    "forbidden-akamai": forbidden_akamai,
    "rate-limited": rate_limited,
    "challenge-cloudflare-200": challenge_cloudflare(200),
    "challenge-cloudflare-503": challenge_cloudflare(503),
    "block-cloudflare": block_cloudflare,
}


#: How the docs table says what a behaviour is.
BEHAVIOUR_WORDS = {
    "article": "the page",
    "article-edited": "the page with one sentence and one figure edited",
    "article-mentions-404": "an article quoting “404 – page not found”",
    "article-redesigned": "the page after a redesign (no `main article`)",
    "emptied": "the template with a one-line stub",
    "not-found-404": "404 error page",
    "gone-410": "410 Gone page",
    "soft-404-en": "200 “Page not found”",
    "soft-404-sr-cyrl": "200 „Страница није пронађена“",
    "soft-404-sr-latn": "200 „Stranica nije pronađena“",
    "soft-404-zh": "200 “页面不存在”",
    "generic-unknown": "200 “Content unavailable” (what unknown paths get)",
    "home": "200 with the home page",
    "login": "login page",
    "search": "search page",
    "signpost": "“moved to our archive” page",
    "status-503": "503 maintenance page",
    "status-401": "401 (Basic auth)",
    "forbidden": "403 “Access forbidden” page of the site",
    "forbidden-akamai": "403 Akamai “Access Denied”",
    "rate-limited": "429, Retry-After one day",
    "challenge-cloudflare-200": "200 Cloudflare “Just a moment...”",
    "challenge-cloudflare-503": "503 Cloudflare “Just a moment...”",
    "block-cloudflare": "403 Cloudflare “Sorry, you have been blocked”",
}


def render(behaviour: str, ctx: Context) -> Response:
    """The response of ``behaviour`` for the request in ``ctx``, with its Content-Type."""
    resp = BEHAVIOURS[behaviour](ctx)
    if not any(k.lower() == "content-type" for k, _ in resp.headers):
        resp.headers.insert(0, ("Content-Type", HTML))
    return resp
