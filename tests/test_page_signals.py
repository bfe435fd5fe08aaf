"""Page signals of crawler.evidence: not-found phrases in titles, and WAF/CDN challenge pages.

Challenge pages are rebuilt as close to the vendors' real pages as we know them
(longer ones under tests/pages/challenges/), then put through the extractor as a
capture would be, so ``title`` and ``text_length`` are what the caller passes.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from crawler.evidence import notfound
from crawler.evidence.challenge import (
    FAMILIES,
    LITTLE_TEXT,
    Challenge,
    detect_challenge,
)
from crawler.evidence.notfound import (
    MAX_INPUT,
    PHRASES,
    NotFoundPhrase,
    not_found_phrase,
)
from crawler.extract import extract

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).resolve().parent / "pages" / "challenges"


# --- not-found phrases ------------------------------------------------------------------


@pytest.mark.parametrize(("title", "phrase", "language"), [
    # English
    ("Page Not Found", "page not found", "en"),
    ("Page not found – Ministry of Finance", "page not found", "en"),
    ("Oops! Page not found.", "page not found", "en"),
    ("404 Not Found", "404 not found", "en"),
    ("404 - Page Not Found", "page not found", "en"),
    ("404 | Ministry of Health", "404", "en"),
    ("404", "404", "en"),
    ("Error 404", "error 404", "en"),
    ("Error 404 (Not Found)!!1", "error 404", "en"),
    ("404 Error - City of Novi Sad", "404 error", "en"),
    ("Ministry of Finance: Error 404", "error 404", "en"),
    ("Not Found", "not found", "en"),
    ("HTTP Status 404 – Not Found", "not found", "en"),
    ("This page is no longer available", "page is no longer available", "en"),
    ("No longer available | Gazette", "no longer available", "en"),
    ("The page does not exist", "page does not exist", "en"),
    ("Sorry, this page cannot be found", "page cannot be found", "en"),
    ("The page could not be found", "page could not be found", "en"),
    ("We can’t find that page", "we can't find that page", "en"),
    ("WE CAN'T FIND THAT PAGE", "we can't find that page", "en"),
    ("The page you requested is unavailable", "page you requested", "en"),
    ("Page\u00a0not\u00a0found", "page not found", "en"),
    # as common software writes them: WordPress, Joomla, IIS, Django
    ("Oops! That page can’t be found.", "page can't be found", "en"),
    ("404 - Article not found", "article not found", "en"),
    ("404 - File or directory not found.", "404", "en"),
    ("Not Found (#404)", "not found", "en"),
    # Serbian, Cyrillic
    ("Страница није пронађена", "страница није пронађена", "sr-Cyrl"),
    ("Страница није пронађена – Министарство финансија", "страница није пронађена", "sr-Cyrl"),
    ("Тражена страница није пронађена | Влада Републике Србије", "тражена страница није пронађена", "sr-Cyrl"),
    ("Страница не постоји", "страница не постоји", "sr-Cyrl"),
    ("Грешка 404", "грешка 404", "sr-Cyrl"),
    ("Грешка 404 – Народна скупштина", "грешка 404", "sr-Cyrl"),
    ("СТРАНИЦА НИЈЕ ПРОНАЂЕНА", "страница није пронађена", "sr-Cyrl"),
    # Serbian, Latin: with and without diacritics
    ("Stranica nije pronađena", "stranica nije pronađena", "sr-Latn"),
    ("Stranica nije pronadjena - Opština Zemun", "stranica nije pronadjena", "sr-Latn"),
    ("Stranica nije pronadena", "stranica nije pronadena", "sr-Latn"),
    ("Stranica ne postoji", "stranica ne postoji", "sr-Latn"),
    ("Greška 404", "greška 404", "sr-Latn"),
    ("Greska 404 | Grad Beograd", "greska 404", "sr-Latn"),
    ("Stranica koju tražite ne postoji", "stranica koju tražite ne postoji", "sr-Latn"),
    # Croatian and Bosnian sites (the shared words are listed once, as sr-Latn)
    ("Pogreška 404 - Vlada Republike Hrvatske", "pogreška 404", "hr"),
    ("Stranicu nije moguće pronaći", "stranicu nije moguće pronaći", "hr"),
    ("Tražena stranica ne postoji | Vijeće ministara BiH", "tražena stranica ne postoji", "sr-Latn"),
    # Chinese
    ("页面不存在", "页面不存在", "zh"),
    ("抱歉，您访问的页面不存在！", "页面不存在", "zh"),
    ("页面未找到 - 国家统计局", "页面未找到", "zh"),
    ("找不到页面", "找不到页面", "zh"),
    ("404 页面", "404 页面", "zh"),
    ("404页面 - 某某网", "404页面", "zh"),
    ("找不到頁面", "找不到頁面", "zh-Hant"),
    # Other languages
    ("Seite nicht gefunden | Bundesministerium", "seite nicht gefunden", "de"),
    ("Die Seite wurde nicht gefunden", "seite wurde nicht gefunden", "de"),
    ("Page introuvable", "page introuvable", "fr"),
    ("Page non trouvée – Ministère", "page non trouvée", "fr"),
    ("Cette page n’existe pas", "page n'existe pas", "fr"),
    ("Página no encontrada", "página no encontrada", "es"),
    ("Página não encontrada", "página não encontrada", "pt"),
    ("Pagina non trovata", "pagina non trovata", "it"),
    ("Страница не найдена", "страница не найдена", "ru"),
    ("Ошибка 404 — Министерство", "ошибка 404", "ru"),
    ("Сторінку не знайдено", "сторінку не знайдено", "uk"),
    ("الصفحة غير موجودة", "الصفحة غير موجودة", "ar"),
    ("Sayfa Bulunamadı", "sayfa bulunamadı", "tr"),
    ("SAYFA BULUNAMADI", "sayfa bulunamadi", "tr"),
    ("Nie znaleziono strony", "nie znaleziono strony", "pl"),
    ("Strona nie istnieje | Urząd Miasta", "strona nie istnieje", "pl"),
    ("Az oldal nem található", "oldal nem található", "hu"),
    ("404-es hiba", "404-es hiba", "hu"),
    ("ページが見つかりません", "ページが見つかりません", "ja"),
])
def test_titles_that_say_not_found(title, phrase, language):
    assert not_found_phrase(title) == NotFoundPhrase(phrase, language)


@pytest.mark.parametrize("title", [
    None,
    "",
    "   ",
    "Oops!",
    "Oops, something went wrong",
    # "404" as part of a name or a number, not as an error code
    "Regulation 404/2024 on procurement",
    "Route 404 timetable",
    "Law 404 of 2021",
    "Decision no. 404-02-118/2024",
    "Уредба 404/2024 о јавним набавкама",
    "404 Pages: a design gallery",
    "How to fix error 404 in WordPress",
    "Why a 404 error hurts your search ranking",
    "Zakon o planiranju i izgradnji (Sl. glasnik RS, br. 72/2009, 81/2009, 64/2010, 24/2011, 121/2012, 42/2013, 50/2013, 98/2013, 132/2014, 145/2014)",
    # the words, in another sense
    "Not foundational: why the rules need rewriting",
    "Found and lost: the archive of the 1990s",
    "Not found in the archive: the lost films of Yugoslav cinema",
    "Lost and found office",
    "Free tier no longer available for students",
    "The page turner: reviews of new books",
    "Notfound Records label profile",
    "Stranica 2 od 14 - Vesti",
    "Страница 2 – Вести",
    "Strategija razvoja 2024–2030",
    "页面设计指南",
    "Seite 3 von 12",
])
def test_titles_that_do_not(title):
    assert not_found_phrase(title) is None


def test_every_phrase_of_the_table_matches_itself_as_a_title():
    for entry in PHRASES:
        assert not_found_phrase(entry.phrase) == entry, entry


def test_the_table_covers_the_languages_sites_use():
    languages = {entry.language for entry in PHRASES}
    assert {"en", "sr-Cyrl", "sr-Latn", "hr", "zh", "de", "fr", "es", "pt", "it", "ru", "uk", "ar", "tr", "pl",
            "hu"} <= languages


def test_input_past_the_cap_is_not_read():
    assert not_found_phrase("x" * (MAX_INPUT - 20) + " | Page not found") is not None
    assert not_found_phrase("x" * MAX_INPUT + " | Page not found") is None


@pytest.mark.parametrize(("lines", "fix", "where"), [
    ("en page not found", "one tab each", 3),
    ("en\t", "one tab each", 3),
    ("en\tpage not found\teverywhere", "use one of anywhere, start, whole", 3),
    ("en\tpage | not found", "without | : / ( ) or spaced dashes", 3),
    ("en\tpage not found\nen\tPAGE  NOT FOUND", "repeats line 3", 4),
])
def test_a_malformed_table_line_names_the_line_and_the_fix(lines, fix, where):
    with pytest.raises(ValueError) as caught:
        notfound._parse("# a comment\n\n" + lines, "test.tsv")
    assert str(caught.value).startswith(f"test.tsv line {where}: ")
    assert fix in str(caught.value)


def test_the_table_is_package_data():
    with (ROOT / "pyproject.toml").open("rb") as f:
        package_data = tomllib.load(f)["tool"]["setuptools"]["package-data"]["crawler"]
    assert "evidence/*.tsv" in package_data


# --- challenge pages ---------------------------------------------------------------------


def _page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def _detect(html: str, *, status: int = 200, headers=(), text_known: bool = True) -> Challenge | None:
    """As the caller does: title and text from the extractor, the first 64 KiB of markup lower-cased."""
    got = extract(html.encode("utf-8"), "text/html; charset=utf-8", "https://www.example.gov/")
    return detect_challenge(
        status=status,
        headers=tuple(headers),
        title=got.title,
        markup=html[:65536].lower(),
        text_length=len(got.text) if text_known and got.text is not None else None,
    )


CLOUDFLARE = (("server", "cloudflare"), ("cf-ray", "8c1f2a3b4d5e6f70-BEG"), ("content-type", "text/html; charset=UTF-8"))
CF_CHALLENGE = (*CLOUDFLARE, ("cf-mitigated", "challenge"))
AKAMAI = (("server", "AkamaiGHost"), ("mime-version", "1.0"), ("content-type", "text/html"))

AKAMAI_DENIED = """<HTML><HEAD>
<TITLE>Access Denied</TITLE>
</HEAD><BODY>
<H1>Access Denied</H1>

You don't have permission to access "http&#58;&#47;&#47;www&#46;mfin&#46;gov&#46;example&#47;propisi&#47;" on this server.<P>
Reference&#32;&#35;18&#46;8e2d3e17&#46;1722001234&#46;3a003f93
<P>https&#58;&#47;&#47;errors&#46;edgesuite&#46;net&#47;18&#46;8e2d3e17&#46;1722001234&#46;3a003f93</P>
</BODY>
</HTML>
"""
# The same page as a browser's DOM serialises it (entities decoded).
AKAMAI_DENIED_DOM = ("<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1> You don't have "
                     'permission to access "http://www.mfin.gov.example/propisi/" on this server.<p> Reference '
                     "#18.8e2d3e17.1722001234.3a003f93 </p><p>https://errors.edgesuite.net/18.8e2d3e17.1722001234."
                     "3a003f93</p></body></html>")
IMPERVA_INCIDENT = (
    '<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW"><meta name="format-detection" '
    'content="telephone=no"><meta name="viewport" content="initial-scale=1.0"><meta http-equiv="X-UA-Compatible" '
    'content="IE=edge,chrome=1"></head><body style="margin:0px;height:100%"><iframe id="main-iframe" '
    'src="/_Incapsula_Resource?CWUDNSAI=24&xinfo=7-12345678-0%200NNN%20RT%281722001234%2012%29%20q%280%20-1%20-1%200%29'
    '%20r%280%20-1%29%20B12%284%2c316%2c0%29%20U18&incident_id=1234000560012345678-987654321012345678&edet=12&'
    'cinfo=04000000&rpinfo=0&mth=GET" frameborder=0 width="100%" height="100%" marginheight="0px" marginwidth="0px">'
    "Request unsuccessful. Incapsula incident ID: 1234000560012345678-987654321012345678</iframe></body></html>"
)
IMPERVA_JS = ('<html>\n<head>\n<META NAME="robots" CONTENT="noindex,nofollow">\n<script src="/_Incapsula_Resource?'
              'SWJIYLWA=5074a744e2e3d891814e9a2dace20bd4,719d34d31c8e3a6e6fffd425f7e032f3">\n</script>\n<body>\n'
              "</body></html>")
SUCURI_JS = ("<html><title>You are being redirected...</title>\n<noscript>Javascript is required. Please enable "
             "javascript before you are allowed to see this page.</noscript>\n<script>var s={},u,c,U,r,i,l=0,a,e=eval,"
             "w=String.fromCharCode,sucuri_cloudproxy_js='',S='cD0iMSIuc2xpY2UoMCwxKSArICJzdWN1cmkiOw==';L=S.length;"
             "U=0;r='';var A='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';document.cookie=p;"
             "location.reload();</script></html>")
DATADOME = (
    "<html lang=\"en\"><head><title>www.oglasi.example</title><style>#cmsg{animation: A 1.5s;}@keyframes A{0%{opacity:0;}"
    "99%{opacity:0;}100%{opacity:1;}}</style></head><body style=\"margin:0\"><p id=\"cmsg\">Please enable JS and "
    "disable any ad blocker</p><script data-cfasync=\"false\">var dd={'rt':'c','cid':'AHrlqAAAAAMAk1b2c3D4e5F6g7H8',"
    "'hsh':'2211F522B61E269B869FA6EAFFB5E1','t':'fe','s':45583,'e':'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4',"
    "'host':'geo.captcha-delivery.com','cookie':'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe'}</script><script "
    "data-cfasync=\"false\" src=\"https://ct.captcha-delivery.com/c.js\"></script></body></html>"
)
DATADOME_HEADERS = (("x-datadome", "protected"), ("x-dd-b", "1"), ("set-cookie", "datadome=Zx9Yw8; Max-Age=31536000"))
VERIFY_HUMAN = ('<!DOCTYPE html><html><head><title>Verify you are human</title><script src="https://challenges.'
                'cloudflare.com/turnstile/v0/api.js" async defer></script></head><body><h1>Verify you are human</h1>'
                '<p>Complete the check below to continue to the portal.</p><form method="post"><div class="cf-turnstile"'
                ' data-sitekey="0x4AAAAAAA1b2c3d4e5f6g7h"></div><button>Continue</button></form></body></html>')


def _localised(html: str, title: str) -> str:
    return html.replace("<title>Just a moment...</title>", f"<title>{title}</title>")


#: (markup, status, headers, vendor, marks it must give): the vendors' pages, served as they serve them.
CHALLENGES = [
    # Cloudflare's managed challenge: 403 with cf-mitigated since 2023; a bare 200/503 before
    (_page("cloudflare-challenge.html"), 403, CF_CHALLENGE, "cloudflare",
     ['title "Just a moment..."', "header cf-mitigated: challenge", 'body marker "_cf_chl_opt"', "status 403"]),
    (_page("cloudflare-challenge.html"), 503, CLOUDFLARE, "cloudflare", ['title "Just a moment..."', "status 503"]),
    (_page("cloudflare-challenge.html"), 200, CLOUDFLARE, "cloudflare", ['title "Just a moment..."']),
    # a localised title: the header decides, and without it the markers with the status
    (_localised(_page("cloudflare-challenge.html"), "Einen Moment…"), 403, CF_CHALLENGE, "cloudflare",
     ["header cf-mitigated: challenge"]),
    (_localised(_page("cloudflare-challenge.html"), "Један тренутак…"), 403, CLOUDFLARE, "cloudflare",
     ['body marker "_cf_chl_opt"', 'body marker "/orchestrate/chl_page/"', "status 403"]),
    # the block page (WAF rule, IP ban, 1020)
    (_page("cloudflare-block.html"), 403, CLOUDFLARE, "cloudflare",
     ['title "Attention Required! | Cloudflare"', 'body marker "sorry, you have been blocked"', "status 403"]),
    (("<html><head><title>Access denied | www.mfin.gov.example used Cloudflare to restrict access</title></head>"
      "<body><h1>Error 1020</h1><p>Access denied</p></body></html>"), 403, CLOUDFLARE, "cloudflare",
     ['title "Access denied | www.mfin.gov.example used Cloudflare to restrict access"']),
    # Akamai's Access Denied, 403 as served, 200 when a rule says so, and from a browser's DOM
    (AKAMAI_DENIED, 403, AKAMAI, "akamai",
     ['body marker "reference&#32;&#35;18&#46;"', 'body marker "errors&#46;edgesuite&#46;net&#47;18&#46;"',
      "status 403"]),
    (AKAMAI_DENIED, 200, AKAMAI, "akamai", ['body marker "reference&#32;&#35;18&#46;"', "little text"]),
    (AKAMAI_DENIED_DOM, 403, AKAMAI, "akamai",
     ['body marker "reference #18."', 'body marker "errors.edgesuite.net/18."', "status 403"]),
    # Imperva (Incapsula): the incident iframe, and the JavaScript challenge (200, nothing else on the page)
    (IMPERVA_INCIDENT, 403, (("x-cdn", "Imperva"), ("x-iinfo", "7-12345678-0 0NNN RT(1722001234 12)")), "imperva",
     ['body marker "incapsula incident id"', 'body marker "_incapsula_resource?cwudnsai="', "status 403"]),
    (IMPERVA_INCIDENT, 200, (("x-cdn", "Imperva"),), "imperva", ['body marker "incapsula incident id"', "little text"]),
    (IMPERVA_JS, 200, (("x-cdn", "Imperva"),), "imperva",
     ['body markers "_incapsula_resource" + "noindex,nofollow"', "little text"]),
    # Sucuri: the firewall's block page, and its JavaScript cookie challenge
    (_page("sucuri-block.html"), 403,
     (("server", "Sucuri/Cloudproxy"), ("x-sucuri-id", "14013"), ("x-sucuri-block", "BNP005")), "sucuri",
     ['title "Sucuri WebSite Firewall - Access Denied"', "header x-sucuri-block: BNP005", "status 403"]),
    (_page("sucuri-block.html"), 403, (("server", "Sucuri/Cloudproxy"),), "sucuri",
     ['title "Sucuri WebSite Firewall - Access Denied"']),
    (SUCURI_JS, 200, (("server", "Sucuri/Cloudproxy"), ("x-sucuri-id", "14013")), "sucuri",
     ['body marker "sucuri_cloudproxy_js"', "little text"]),
    # AWS WAF: CAPTCHA answers 405, Challenge 202 (an almost empty body); the header decides
    (_page("aws-waf-captcha.html"), 405, (("x-amzn-waf-action", "captcha"), ("server", "awselb/2.0")), "aws-waf",
     ["header x-amzn-waf-action: captcha", 'body marker "awswafcookiedomainlist"', "status 405"]),
    ("", 202, (("x-amzn-waf-action", "challenge"), ("content-length", "0")), "aws-waf",
     ["header x-amzn-waf-action: challenge", "status 202"]),
    (_page("aws-waf-captcha.html"), 405, (("server", "awselb/2.0"),), "aws-waf",
     ['body marker "gokuprops"', 'body marker "awswafintegration"', "status 405"]),
    # DataDome: the captcha page, 403 with x-dd-b, or a 200 interstitial
    (DATADOME, 403, DATADOME_HEADERS, "datadome",
     ['body marker "captcha-delivery.com"', "header x-dd-b: 1", "status 403"]),
    (DATADOME, 200, (("x-datadome", "protected"),), "datadome", ['body marker "captcha-delivery.com"', "little text"]),
    # PerimeterX / HUMAN: the Press & Hold block page
    (_page("perimeterx-block.html"), 403, (("content-type", "text/html"),), "perimeterx",
     ['title "Access to this page has been denied"', 'body marker "px-captcha"', "status 403"]),
    (_page("perimeterx-block.html"), 200, (), "perimeterx", ['title "Access to this page has been denied"']),
    # DDoS-Guard's browser check
    (_page("ddos-guard-challenge.html"), 403, (("server", "ddos-guard"),), "ddos-guard",
     ['title "DDoS-Guard"', 'body marker "/.well-known/ddos-guard/"', "status 403"]),
    (_page("ddos-guard-challenge.html"), 200, (("server", "ddos-guard"),), "ddos-guard", ['title "DDoS-Guard"']),
    # generic bot checks: a captcha title on a page with little text; a captcha widget on a refusal
    (VERIFY_HUMAN, 200, (), "captcha", ['title "Verify you are human"', "little text"]),
    (VERIFY_HUMAN.replace("Verify you are human</title>", "Security check | e-Uprava</title>"), 200, (), "captcha",
     ['title "Security check | e-Uprava"', "little text"]),
    (_page("contact-captcha.html"), 429, (), "captcha",
     ['body marker "g-recaptcha"', 'body marker "h-captcha"', "status 429"]),
]


@pytest.mark.parametrize(("html", "status", "headers", "vendor", "marks"), CHALLENGES)
def test_challenge_pages(html, status, headers, vendor, marks):
    found = _detect(html, status=status, headers=headers)
    assert found is not None
    assert found.vendor == vendor
    for mark in marks:
        assert any(m == mark or m.startswith(mark + " (") for m in found.marks), (mark, found.marks)


def test_marks_read_as_the_reasons():
    found = _detect(AKAMAI_DENIED, status=200, headers=AKAMAI)
    assert found == Challenge("akamai", (
        'body marker "reference&#32;&#35;18&#46;"',
        'body marker "errors&#46;edgesuite&#46;net&#47;18&#46;"',
        f"little text ({len(extract(AKAMAI_DENIED.encode(), 'text/html', 'https://x.example/').text)} characters)",
    ))
    unknown = _detect(IMPERVA_INCIDENT, status=200, text_known=False)
    assert unknown.marks[-1].startswith(f"small page ({len(IMPERVA_INCIDENT)} characters of markup, about ")


# Cloudflare's Bot Fight Mode script, as it injects it before </body> of every page it serves.
CF_JSD = re.search(r"<script>\(function\(\)\{function c\(\).*?</script>", _page("cloudflare-normal.html"),
                   re.DOTALL)[0]


def _normal(head: str = "", body: str = "", *, short: bool = False) -> str:
    """An ordinary page (plenty of text, or little with ``short``), with ``head`` and ``body`` added."""
    html = _page("cloudflare-normal.html").replace(CF_JSD, "")
    if short:
        start, end = html.index("<article>"), html.index("</article>")
        html = html[:start] + "<article><p>Notices will be published here.</p>" + html[end:]
    return html.replace("</head>", head + "</head>").replace("</body>", body + "</body>")


INCAPSULA_INJECTED = '<script src="/_Incapsula_Resource?SWJIYLWA=719d34d31c8e3a6e6fffd425f7e032f3&ns=1&cb=1"></script>'
PX_SENSOR = ("<script>window._pxAppId = 'PXa1b2c3d4';</script>"
             '<script src="https://client.perimeterx.net/PXa1b2c3d4/main.min.js" async></script>')
AWS_INTEGRATION = ('<script src="https://0c5d2f3a1b4e.eu-central-1.sdk.awswaf.com/0c5d2f3a1b4e/a1b2/challenge.js" '
                   'defer></script><script>AwsWafIntegration.getToken();</script>')

NGINX_403 = ("<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>"
             "\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
MAINTENANCE_503 = ("<!DOCTYPE html><html lang=\"sr\"><head><meta charset=\"utf-8\"><title>Održavanje sajta | Poreska uprava"
                   "</title></head><body><h1>Sajt je privremeno nedostupan</h1><p>Zbog planiranog održavanja sajt "
                   "neće biti dostupan od 22 do 24 časa. Hvala na razumevanju.</p></body></html>")
AKAMAI_ZERO_SIZE = ("<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD><BODY><H1>Service Unavailable - Zero size "
                    "object</H1>The server is temporarily unable to service your request. Please try again later.<P>"
                    "Reference&#32;&#35;15&#46;6c83017&#46;1722001234&#46;3ddd8dc4<P>https&#58;&#47;&#47;errors&#46;"
                    "edgesuite&#46;net&#47;15&#46;6c83017&#46;1722001234&#46;3ddd8dc4</P></BODY></HTML>")
SPA_SHELL = ('<!doctype html><html><head><title>e-Uprava</title><script type="module" src="/assets/index-4f2a.js">'
             '</script></head><body><noscript>You need to enable JavaScript to run this app.</noscript>'
             '<div id="root"></div></body></html>')


@pytest.mark.parametrize(("html", "status", "headers"), [
    # a normal page served through Cloudflare, Bot Fight Mode script and all; and a short one
    pytest.param(_page("cloudflare-normal.html"), 200, CLOUDFLARE, id="cloudflare-normal"),
    pytest.param(_normal(body=CF_JSD, short=True), 200, CLOUDFLARE, id="cloudflare-normal-short"),
    # an article about challenges, quoting their titles, texts and markers in its body
    pytest.param(_page("news-about-challenges.html"), 200, CLOUDFLARE, id="article-about-challenges"),
    pytest.param(_page("news-about-challenges.html"), 200, AKAMAI, id="article-about-challenges-akamai"),
    # captcha widgets on a contact form with plenty of text
    pytest.param(_page("contact-captcha.html"), 200, (), id="contact-form-captcha"),
    # Akamai serving ordinary pages
    pytest.param(_normal(), 200, (*AKAMAI, ("x-akamai-transformed", "9 12345 0 pmb=mRUM,2")), id="akamai-normal"),
    pytest.param(_normal(short=True), 200, AKAMAI, id="akamai-normal-short"),
    # vendors' scripts that ordinary pages carry
    pytest.param(_normal(INCAPSULA_INJECTED), 200, (("x-cdn", "Imperva"),), id="incapsula-injected"),
    pytest.param(_normal(INCAPSULA_INJECTED, short=True), 200, (("x-cdn", "Imperva"),), id="incapsula-injected-short"),
    pytest.param(_normal(PX_SENSOR, short=True), 200, (), id="perimeterx-sensor-short"),
    pytest.param(_normal(AWS_INTEGRATION, short=True), 200, (), id="aws-waf-integration-short"),
    pytest.param(_normal(short=True), 200, (("x-datadome", "protected"),), id="datadome-protected-short"),
    # the origin's own refusals and outages, through a CDN or not: the caller maps these statuses
    pytest.param(NGINX_403, 403, (("server", "nginx"),), id="nginx-403"),
    pytest.param(NGINX_403, 403, CLOUDFLARE, id="nginx-403-through-cloudflare"),
    pytest.param(NGINX_403, 403, (("server", "ddos-guard"),), id="nginx-403-through-ddos-guard"),
    pytest.param(MAINTENANCE_503, 503, (("server", "Apache"), ("retry-after", "7200")), id="maintenance-503"),
    pytest.param(MAINTENANCE_503, 503, AKAMAI, id="maintenance-503-akamai"),
    pytest.param(_page("cloudflare-origin-error.html"), 522, CLOUDFLARE, id="cloudflare-522"),
    pytest.param(AKAMAI_ZERO_SIZE, 503, AKAMAI, id="akamai-503-zero-size-object"),
    # titles that only look like bot checks
    pytest.param(_normal().replace("<title>Public procurement notices | Ministry of Finance</title>",
                                   "<title>Security check | Airport of Belgrade</title>"), 200, (),
                 id="security-check-title-long-page"),
    pytest.param(_normal(short=True).replace("<title>Public procurement notices | Ministry of Finance</title>",
                                             "<title>Airport security check times</title>"), 200, (),
                 id="security-check-in-a-title"),
    pytest.param(SPA_SHELL, 200, CLOUDFLARE, id="spa-shell"),
    pytest.param("", 200, (), id="empty"),
])
def test_not_challenges(html, status, headers):
    assert _detect(html, status=status, headers=headers) is None
    assert _detect(html, status=status, headers=headers, text_known=False) is None


def test_nothing_known_is_nothing_found():
    assert detect_challenge(status=200, headers=(), title=None, markup="", text_length=None) is None
    assert detect_challenge(status=403, headers=(), title=None, markup="", text_length=0) is None


def test_a_long_page_with_a_marker_needs_a_refusal():
    article = _page("news-about-challenges.html")
    assert _detect(article, status=200) is None
    blocked = _detect(article, status=403)
    assert blocked is not None and "status 403" in blocked.marks


def test_the_normal_pages_have_plenty_of_text():
    # The must-not-flag pages above test the rule only if they are past the little-text line.
    for name in ("cloudflare-normal.html", "news-about-challenges.html", "contact-captcha.html"):
        text = extract(_page(name).encode(), "text/html; charset=utf-8", "https://x.example/").text
        assert len(text) >= LITTLE_TEXT, name


def test_the_table_is_lower_case_and_one_row_per_vendor():
    vendors = [family.vendor for family in FAMILIES]
    assert len(vendors) == len(set(vendors))
    assert vendors[-1] == "captcha"  # the generic family is tried last
    for family in FAMILIES:
        texts = [*family.titles, *family.title_parts, *family.soft_titles]
        for marker in (*family.markers, *family.refusal_markers):
            texts += [marker] if isinstance(marker, str) else list(marker)
        texts += [part for pair in (*family.headers, *family.marker_headers) for part in pair]
        assert all(text == text.lower() for text in texts), family.vendor


@pytest.mark.parametrize(("html", "status", "headers", "vendor", "marks"), CHALLENGES)
def test_challenge_pages_when_the_text_length_is_unknown(html, status, headers, vendor, marks):
    found = _detect(html, status=status, headers=headers, text_known=False)
    assert found is not None and found.vendor == vendor
