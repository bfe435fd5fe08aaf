"""What a fictional site of the fake web is: a :class:`Profile` (its template's words, menu, sidebar,
footer, home page news and :class:`Article` pages), the English words every site falls back on
(:data:`UI_EN`), and :func:`nav` for writing a menu as flat label/href pairs. The sites themselves
are in ``sites_en``, ``sites_sr`` and ``sites_zh``; ``sites`` gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One article of a site: ``body`` is HTML; ``edits`` turn it into ``article-edited``."""

    path: str
    section: tuple[str, str]           # breadcrumb: (label, href)
    title: str
    meta: str
    lede: str
    body: str
    edits: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Profile:
    """A fictional site: its template's words, menu, footer, news and articles."""

    key: str
    lang: str
    name: str
    tagline: str
    nav: tuple[tuple[str, str], ...]
    topbar: str
    sidebar: str
    footer: str
    news: tuple[tuple[str, str, str], ...]   # (date, title, href) on the home page
    ui: dict
    articles: dict[str, Article] = field(default_factory=dict)

    def word(self, key: str) -> str:
        return self.ui.get(key, UI_EN[key])


UI_EN = {
    "home": "Home",
    "skip": "Skip to main content",
    "search_label": "Search this site",
    "search_button": "Search",
    "menu": "Main menu",
    "you_are_here": "You are here:",
    "share": "Share this page: Email · LinkedIn · X · Print",
    "updated": "Page last reviewed: 2 April 2024",
    "nf_title": "Page not found",
    "nf_h1": "Page not found",
    "nf_text": (
        "<p>Sorry, the page you are looking for does not exist. It may have been moved or deleted, "
        "or the address may have been typed incorrectly.</p>"
        "<p>You could try:</p><ul><li>checking the spelling of the address</li>"
        "<li>going back to the <a href=\"/\">home page</a></li>"
        "<li>using the search box at the top of this page</li>"
        "<li>contacting us if you followed a link from our own site</li></ul>"
        "<p class=\"error-code\">Error code: 404</p>"
    ),
    "gone_title": "This page has been removed",
    "gone_h1": "This page has been removed",
    "gone_text": (
        "<p>The document that was published at this address has been permanently withdrawn and is no longer "
        "available on this website.</p><p>Documents withdrawn from publication are kept in accordance with the "
        "records retention schedule. Requests for withdrawn documents may be made under the Freedom of "
        "Information Act through the <a href=\"/contact/foi\">request form</a>.</p>"
        "<p class=\"error-code\">HTTP 410 Gone</p>"
    ),
    "forbidden_title": "Access forbidden",
    "forbidden_h1": "Access forbidden",
    "forbidden_text": (
        "<p>You do not have permission to view this page. Documents in this part of the site are available only "
        "from the government network or to signed-in registered users.</p>"
        "<p>If you need this document, <a href=\"/contact\">contact us</a> and quote the address of the page.</p>"
        "<p class=\"error-code\">Error 403</p>"
    ),
    "unavailable_title": "Content unavailable",
    "unavailable_h1": "Content unavailable",
    "unavailable_text": (
        "<p>Sorry, we could not find that content. The item you requested may have been archived as part of "
        "our website review, or the link you followed may be out of date.</p>"
        "<p>Most recent documents are listed on the <a href=\"/\">home page</a>. Older material is available "
        "from the <a href=\"/archive\">document archive</a>.</p>"
    ),
    "emptied": "This case study is no longer available.",
    "home_title": "Welcome",
    "home_lede": "Latest news, notices and publications.",
    "latest": "Latest news",
    "more": "Read more",
    "login_title": "Sign in",
    "login_h1": "Sign in to your account",
    "login_user": "Email address or username",
    "login_pass": "Password",
    "login_button": "Sign in",
    "login_help": (
        "<p><a href=\"/login/forgotten\">Forgotten your password?</a></p>"
        "<p>Registered suppliers and partners can sign in to see restricted documents. "
        "<a href=\"/register\">Request an account</a>. Accounts are usually approved within two working days.</p>"
    ),
    "search_title": "Search results",
    "search_h1": "Search",
    "search_none": "0 results for “{q}”",
    "search_help": (
        "<p>Suggestions:</p><ul><li>Check the spelling of your search terms.</li>"
        "<li>Try different or more general keywords.</li><li>Use fewer keywords.</li>"
        "<li>Filter by section or date using the options on the left.</li></ul>"
    ),
    "signpost_title": "This page has moved",
    "signpost_h1": "This page has moved to our archive",
    "signpost_text": (
        "<p>As part of the redesign of our website, older pages have been moved to our archive. The page you "
        "are looking for is no longer maintained here.</p><p>You can find archived content at "
        "<a href=\"https://archive.example.org/\">archive.example.org</a>. Please update your bookmarks.</p>"
        "<p>Archived pages are provided for reference only and may contain outdated information.</p>"
    ),
}


def nav(*pairs: str) -> tuple[tuple[str, str], ...]:
    it = iter(pairs)
    return tuple(zip(it, it))
