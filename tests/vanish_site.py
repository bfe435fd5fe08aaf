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
"""

from __future__ import annotations

import email.utils
import html
import http.server
import io
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from .site import self_signed_cert

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


# -- the sites -----------------------------------------------------------------------------------


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


def _nav(*pairs: str) -> tuple[tuple[str, str], ...]:
    it = iter(pairs)
    return tuple(zip(it, it))


VENDOR = Profile(
    key="vendor",
    lang="en",
    name="Kestrel Vision Systems",
    tagline="Intelligent video for safer cities",
    topbar=(
        '<ul class="topbar"><li><a href="/partners/login">Partner portal</a></li>'
        '<li><a href="/support">Support</a></li><li><a href="/contact">Contact sales</a></li>'
        '<li class="lang"><a href="/" lang="en">EN</a> | <a href="/de/" lang="de">DE</a> | '
        '<a href="/fr/" lang="fr">FR</a> | <a href="/ar/" lang="ar">AR</a></li></ul>'
    ),
    nav=_nav(
        "Safe City", "/solutions/safe-city", "Smart Traffic", "/solutions/smart-traffic",
        "Critical Infrastructure", "/solutions/critical-infrastructure", "Transport Hubs", "/solutions/transport",
        "Border Security", "/solutions/border-security", "Retail Analytics", "/solutions/retail",
        "KV Sentinel cameras", "/products/sentinel", "KV Command VMS", "/products/command",
        "FaceTrace analytics", "/products/facetrace", "PlateScan ANPR", "/products/platescan",
        "Edge AI appliances", "/products/edge-ai", "Mobile surveillance units", "/products/mobile",
        "Case studies", "/case-studies", "Public safety", "/case-studies/public-safety",
        "Transport", "/case-studies/transport", "Energy", "/case-studies/energy",
        "About us", "/company/about", "Leadership", "/company/leadership", "Careers", "/company/careers",
        "Partners", "/company/partners", "Compliance &amp; ethics", "/company/compliance",
        "Investors", "/investors", "Whitepapers", "/resources/whitepapers", "Webinars", "/resources/webinars",
        "Documentation", "/resources/docs", "Downloads", "/resources/downloads", "News", "/news",
        "Events", "/events", "Contact", "/contact",
    ),
    sidebar=(
        '<section class="related"><h2>Related case studies</h2><ul>'
        '<li><a href="/case-studies/valmora-smart-traffic">Valmora Smart Traffic</a></li>'
        '<li><a href="/case-studies/port-arden-airport-facetrace">Port Arden International Airport</a></li>'
        '<li><a href="/case-studies/harbour-district-energy">Harbour District energy grid</a></li></ul></section>'
        '<section class="cta"><h2>Talk to our Safe City team</h2><p>Our consultants have designed city-wide '
        'video systems in 41 countries. Tell us about your project and we will call you back within one '
        'working day.</p><p><a class="button" href="/contact?topic=safe-city">Request a consultation</a></p>'
        '</section><section class="downloads"><h2>Downloads</h2><ul>'
        '<li><a href="/resources/downloads/safe-city-brochure.pdf">Safe City brochure (PDF, 4.2 MB)</a></li>'
        '<li><a href="/resources/downloads/sentinel-datasheet.pdf">KV Sentinel 4K datasheet (PDF, 1.1 MB)</a></li>'
        '</ul></section>'
    ),
    footer=(
        '<div class="footer-cols"><div><h2>Kestrel Vision Systems Ltd</h2><address>14 Harbour Quay<br>'
        'Valmora VM2 4RT<br>Tel. +44 20 7946 0321<br>info@kestrelvision.example</address></div>'
        '<div><h2>Company</h2><ul><li><a href="/company/about">About us</a></li><li><a href="/company/careers">'
        'Careers</a></li><li><a href="/news">Newsroom</a></li><li><a href="/investors">Investors</a></li></ul>'
        '</div><div><h2>Legal</h2><ul><li><a href="/legal/privacy">Privacy notice</a></li><li><a href="/legal/'
        'cookies">Cookie policy</a></li><li><a href="/legal/terms">Terms of use</a></li><li><a href="/legal/'
        'modern-slavery">Modern slavery statement</a></li><li><a href="/accessibility">Accessibility</a></li>'
        '</ul></div><div><h2>Follow us</h2><ul><li><a href="https://www.linkedin.com/company/kestrel-vision">'
        'LinkedIn</a></li><li><a href="https://www.youtube.com/@kestrelvision">YouTube</a></li></ul></div></div>'
        '<p class="copyright">© 2012–2024 Kestrel Vision Systems Ltd. Registered in England and Wales, company '
        'no. 08123456. KV Sentinel, FaceTrace and PlateScan are trademarks of Kestrel Vision Systems Ltd.</p>'
    ),
    news=(
        ("12 March 2024", "Kestrel Vision opens a regional office in Dubai", "/news/2024/dubai-office"),
        ("28 February 2024", "KV Sentinel 4K wins Security Product of the Year", "/news/2024/award"),
        ("6 February 2024", "Safe City Novi Grad enters its second phase", "/news/2024/novi-grad-phase-two"),
        ("17 January 2024", "FaceTrace 5.2 adds masked-face matching", "/news/2024/facetrace-5-2"),
        ("4 December 2023", "Webinar: planning a city-wide command centre", "/events/webinar-command-centre"),
        ("20 November 2023", "Kestrel Vision at Intersec 2024, stand S1-D20", "/events/intersec-2024"),
    ),
    ui={
        "home_title": "Intelligent video for safer cities",
        "home_lede": "City-wide video surveillance, analytics and command centres, from design to operation.",
    },
)

VENDOR.articles.update({
    "safe-city-novi-grad": Article(
        path="/case-studies/safe-city-novi-grad",
        section=("Case studies", "/case-studies"),
        title="Safe City Novi Grad: 1,240 cameras, one command centre",
        meta="Case study · Public safety · Published 14 March 2023",
        lede=("How the Novi Grad Police Directorate brought 312 intersections, 46 city entry points and 24 "
              "operators together in a single command centre in 14 months."),
        body="""
<h2>The client</h2>
<p>Novi Grad is a city of 410,000 people on the river Sava, with a historic centre, two industrial zones and
a motorway ring carrying 95,000 vehicles a day. Its Police Directorate ran 140 analogue cameras from three
control rooms that did not share recordings, and patrols were dispatched by radio from a paper map.</p>
<h2>The challenge</h2>
<p>The Directorate wanted one picture of the city: every camera visible from one room, vehicles entering and
leaving the city recorded, and incidents routed to the nearest patrol. The system had to reuse the city's
fibre ring, keep recordings for 30 days, and be operated around the clock by a team of 24.</p>
<h2>Our solution</h2>
<p>Kestrel Vision designed and installed 1,240 KV Sentinel 4K cameras at 312 intersections, squares, schools
and public buildings. FaceTrace analytics run on 180 of them, at the main railway station, the bus terminal and
the pedestrian zone. PlateScan ANPR readers cover all 46 roads into the city and feed a watch list maintained by
the traffic police.</p>
<p>All video is recorded in two mirrored data rooms with 2.1 petabytes of storage. KV Command VMS puts the
video, the alarms and the position of every patrol car on a 28-screen video wall in the new command centre.</p>
<table class="facts"><caption>At a glance</caption>
<tr><th>Cameras</th><td>1,240</td></tr><tr><th>Intersections covered</th><td>312</td></tr>
<tr><th>ANPR entry points</th><td>46</td></tr><tr><th>Storage</th><td>2.1 PB, 30 days retention</td></tr>
<tr><th>Contract value</th><td>EUR 27.6 million over five years</td></tr>
<tr><th>Deployment</th><td>14 months</td></tr></table>
<h2>Results</h2>
<p>In the first year of operation, average response times to reported incidents fell by 38%, and the number
of vehicle thefts fell from 612 to 371. Operators located 94% of vehicles on the watch list within ten
minutes of their entering the city.</p>
<blockquote><p>“For the first time we see the whole city from one room. Our patrols arrive before the caller
has hung up.”</p><footer>Deputy Director, Novi Grad Police Directorate</footer></blockquote>
<p>The second phase, covering the airport road, is planned for 2024.</p>
""",
        edits=(
            ("fell by 38%", "fell by 41%"),
            ("The second phase, covering the airport road, is planned for 2024.",
             "The second phase, covering the airport road and the river port, was completed in May 2024."),
        ),
    ),
    "valmora-smart-traffic": Article(
        path="/case-studies/valmora-smart-traffic",
        section=("Case studies", "/case-studies"),
        title="Valmora Smart Traffic: number plates read on 96 arterial roads",
        meta="Case study · Transport · Published 2 October 2023",
        lede=("Valmora's transport authority replaced its loop detectors with PlateScan ANPR and now enforces its "
              "low-emission zone without a single toll gate."),
        body="""
<h2>The client</h2>
<p>Valmora Transport Authority manages 1,900 kilometres of roads and the city's low-emission zone, which
covers 14 square kilometres of the old town and the port district. Before the project, enforcement relied on
spot checks by 30 officers and on paper permits displayed behind the windscreen.</p>
<h2>What we delivered</h2>
<p>We installed 288 PlateScan ANPR cameras on 96 arterial roads, three per carriageway, together with 64 KV
Sentinel overview cameras at the zone's boundary. Each read is matched in under 200 milliseconds against the
national vehicle register and the authority's permit database; the zone's 118,000 registered vehicles pass
without any action from their drivers.</p>
<p>Reads of vehicles without a permit are bundled into evidence packages with two images and sent to the
authority's penalty office. Reads of permitted vehicles are deleted after 48 hours.</p>
<table class="facts"><caption>At a glance</caption>
<tr><th>ANPR cameras</th><td>288 on 96 roads</td></tr><tr><th>Overview cameras</th><td>64</td></tr>
<tr><th>Reads per day</th><td>1.7 million</td></tr><tr><th>Read accuracy</th><td>99.2% by day, 97.8% at night</td></tr>
<tr><th>Contract value</th><td>EUR 9.4 million including five years of maintenance</td></tr></table>
<h2>Results</h2>
<p>Nitrogen dioxide levels inside the zone fell by 19% in the first twelve months. Penalty notices are now
issued within three days instead of six weeks, and appeals fell by half because every notice carries its
images.</p>
<p>The authority is now studying average-speed enforcement on the ring road.</p>
""",
        edits=(
            ("fell by 19%", "fell by 23%"),
            ("The authority is now studying average-speed enforcement on the ring road.",
             "Average-speed enforcement on the ring road starts in September."),
        ),
    ),
    "port-arden-airport": Article(
        path="/case-studies/port-arden-airport-facetrace",
        section=("Case studies", "/case-studies"),
        title="Port Arden International Airport: FaceTrace at 38 boarding gates",
        meta="Case study · Transport hubs · Published 19 June 2023",
        lede=("Passengers at Port Arden board with their face instead of a boarding pass; the airport's security "
              "team watches 2,600 cameras from one operations centre."),
        body="""
<h2>The client</h2>
<p>Port Arden International Airport handled 11.3 million passengers in 2022 through two terminals and 38
boarding gates. Its security team used four separate video systems inherited from successive terminal
extensions, and boarding was the main bottleneck at peak hours.</p>
<h2>What we delivered</h2>
<p>Kestrel Vision integrated 2,600 existing and new cameras in KV Command VMS, and installed FaceTrace
self-boarding gates at all 38 gates. Passengers who opt in enrol at check-in; their face template is deleted
24 hours after departure. Airport police receive alerts from FaceTrace when a person on the national watch
list passes any of 210 cameras airside.</p>
<table class="facts"><caption>At a glance</caption>
<tr><th>Cameras integrated</th><td>2,600</td></tr><tr><th>Self-boarding gates</th><td>38</td></tr>
<tr><th>Opt-in rate</th><td>62% of departing passengers</td></tr>
<tr><th>Boarding time, A320</th><td>14 minutes instead of 25</td></tr>
<tr><th>Contract value</th><td>EUR 16.8 million</td></tr></table>
<h2>Results</h2>
<p>Boarding an A320 now takes 14 minutes on average. The operations centre handles incidents in both
terminals with 12 operators per shift instead of 19.</p>
<p>The airport plans to extend FaceTrace to its baggage drop in 2024.</p>
""",
        edits=(
            ("62% of departing passengers", "71% of departing passengers"),
            ("The airport plans to extend FaceTrace to its baggage drop in 2024.",
             "FaceTrace was extended to the baggage drop in March 2024."),
        ),
    ),
})


MINISTRY = Profile(
    key="ministry",
    lang="en",
    name="Ministry of Interior Affairs",
    tagline="Republic of Arvenia · Public Procurement Portal",
    topbar=(
        '<ul class="topbar"><li>Official website of the Government of the Republic of Arvenia</li>'
        '<li><a href="/accessibility">Accessibility</a></li><li><a href="/login">Supplier sign in</a></li>'
        '<li class="lang"><a href="/ar/" lang="hy">Arvenian</a> | <a href="/" lang="en">English</a></li></ul>'
    ),
    nav=_nav(
        "About the Ministry", "/about", "The Minister", "/about/minister", "State Secretaries", "/about/secretaries",
        "Organisation chart", "/about/organisation", "Police Directorate", "/police",
        "Border Police", "/border-police", "Emergency Management", "/emergency",
        "Identity cards", "/services/id-cards", "Passports", "/services/passports",
        "Vehicle registration", "/services/vehicles", "Weapons permits", "/services/weapons",
        "Residence permits", "/services/residence", "Procurement plan 2024", "/procurement/plan-2024",
        "Open notices", "/procurement/notices", "Contract awards", "/procurement/awards",
        "Framework agreements", "/procurement/frameworks", "Cancelled procedures", "/procurement/cancelled",
        "Supplier registration", "/procurement/suppliers", "Complaints and remedies", "/procurement/complaints",
        "Laws", "/legislation/laws", "Regulations", "/legislation/regulations",
        "Public consultations", "/legislation/consultations", "News", "/press/news",
        "Statements", "/press/statements", "Photo gallery", "/press/gallery",
        "Freedom of information", "/contact/foi", "Contact", "/contact",
    ),
    sidebar=(
        '<section class="related"><h2>Procurement</h2><ul>'
        '<li><a href="/procurement/notices">All open notices (23)</a></li>'
        '<li><a href="/procurement/plan-2024">Procurement plan 2024 (XLSX, 212 kB)</a></li>'
        '<li><a href="/procurement/awards">Contract awards</a></li>'
        '<li><a href="/procurement/suppliers">Register as a supplier</a></li></ul></section>'
        '<section class="contact"><h2>Procurement Department</h2><p>Room 214, 2nd floor<br>Mon–Fri 08:30–15:30'
        '<br>Tel. +374 10 596 410<br>procurement@mia.example</p></section>'
        '<section class="notice"><h2>e-Tendering</h2><p>From 1 July 2024 tenders are submitted only through '
        'the national e-procurement system. Paper tenders will be returned unopened.</p></section>'
    ),
    footer=(
        '<div class="footer-cols"><div><h2>Ministry of Interior Affairs</h2><address>Government Building 3<br>'
        '1 Republic Square, Arvena 0010<br>Switchboard +374 10 596 000<br>info@mia.example</address></div>'
        '<div><h2>Useful links</h2><ul><li><a href="https://gov.example/">Government portal</a></li>'
        '<li><a href="https://procurement.example/">National e-procurement system</a></li>'
        '<li><a href="https://police.example/">Police</a></li></ul></div>'
        '<div><h2>This site</h2><ul><li><a href="/privacy">Privacy</a></li><li><a href="/cookies">Cookies</a>'
        '</li><li><a href="/sitemap">Site map</a></li><li><a href="/accessibility">Accessibility statement</a>'
        '</li></ul></div></div><p class="copyright">© 2024 Ministry of Interior Affairs of the Republic of '
        'Arvenia. Content may be reused with attribution unless stated otherwise.</p>'
    ),
    news=(
        ("10 April 2024", "Minister meets regional police chiefs on border cooperation", "/press/news/2024-04-10"),
        ("3 April 2024", "Open procedure MIA-2024/117 published: 860 PTZ cameras", "/procurement/notices/2024-117"),
        ("27 March 2024", "New biometric passports issued from 1 May", "/press/news/2024-03-27"),
        ("19 March 2024", "Regulation 404/2024 on CCTV recordings enters into force", "/legislation/regulation-404-2024"),
        ("8 March 2024", "Annual report of the Police Directorate for 2023", "/press/news/2024-03-08"),
        ("29 February 2024", "Public consultation on the draft Law on Private Security", "/legislation/consultations"),
    ),
    ui={
        "home_title": "Ministry of Interior Affairs",
        "home_lede": "Services for citizens, public procurement, legislation and news of the Ministry.",
        "emptied": "This notice is no longer available.",
    },
)

MINISTRY.articles.update({
    "notice-2024-117": Article(
        path="/procurement/notices/2024-117",
        section=("Open notices", "/procurement/notices"),
        title="Open procedure MIA-2024/117: supply and installation of 860 PTZ cameras with video analytics",
        meta="Procurement notice · Reference MIA-2024/117 · Published 3 April 2024",
        lede=("The Ministry invites tenders for the supply, installation and maintenance of pan-tilt-zoom cameras "
              "and video analytics for the Police Directorate's regional command centres."),
        body="""
<table class="notice-data">
<tr><th>Contracting authority</th><td>Ministry of Interior Affairs, 1 Republic Square, Arvena 0010</td></tr>
<tr><th>Procedure</th><td>Open procedure, Article 52 of the Public Procurement Law</td></tr>
<tr><th>CPV codes</th><td>35125300-2 Security cameras; 48000000-8 Software package and information systems</td></tr>
<tr><th>Estimated value</th><td>EUR 10,960,000 excluding VAT</td></tr>
<tr><th>Duration</th><td>36 months from signature</td></tr>
<tr><th>Award criterion</th><td>Most economically advantageous tender: price 60 points, quality 40 points</td></tr>
</table>
<h2>Lots</h2>
<ol><li>Lot 1: 860 PTZ cameras, 4K, 30× optical zoom, IP66, with mounting and cabling (EUR 6,880,000).</li>
<li>Lot 2: video analytics licences for 1,200 channels, including licence plate and face detection
(EUR 2,640,000).</li>
<li>Lot 3: maintenance and operator training for 36 months (EUR 1,440,000).</li></ol>
<h2>Conditions for participation</h2>
<p>Tenderers must show an annual turnover of at least EUR 8,000,000 in each of the last three years and at
least two completed contracts of similar scope for public authorities. Subcontracting above 30% of the value
of a lot must be declared in the tender.</p>
<h2>Time limits</h2>
<p>Requests for clarification may be sent until 29 August 2024. The deadline for tenders is 12 September 2024
at 10:00. Tenders will be opened in public on 12 September 2024 at 10:30 in Room 214.</p>
<h2>Tender documents</h2>
<ul><li><a href="/procurement/notices/2024-117/documents.zip">Tender documentation (ZIP, 18.4 MB)</a></li>
<li><a href="/procurement/notices/2024-117/technical-specification.pdf">Technical specification (PDF,
2.3 MB)</a></li><li><a href="/procurement/notices/2024-117/draft-contract.pdf">Draft contract (PDF,
640 kB)</a></li></ul>
<p>Contact person: Procurement Officer, procurement@mia.example, tel. +374 10 596 410.</p>
""",
        edits=(
            ("Lot 1: 860 PTZ cameras", "Lot 1: 920 PTZ cameras"),
            ("The deadline for tenders is 12 September 2024\nat 10:00.",
             "The deadline for tenders has been extended to 26 September 2024\nat 10:00."),
        ),
    ),
    "award-2023-089": Article(
        path="/procurement/awards/2023-089",
        section=("Contract awards", "/procurement/awards"),
        title="Contract award MIA-2023/089: command and control software for the National Situation Centre",
        meta="Contract award notice · Reference MIA-2023/089 · Published 21 December 2023",
        lede="The contract for the National Situation Centre's command and control software has been awarded.",
        body="""
<table class="notice-data">
<tr><th>Contracting authority</th><td>Ministry of Interior Affairs</td></tr>
<tr><th>Procedure</th><td>Restricted procedure, notice MIA-2023/089 of 14 July 2023</td></tr>
<tr><th>Tenders received</th><td>3 (2 admissible)</td></tr>
<tr><th>Successful tenderer</th><td>Kestrel Vision Systems Ltd, Valmora, in consortium with Arvtel JSC</td></tr>
<tr><th>Contract value</th><td>EUR 4,870,000 excluding VAT</td></tr>
<tr><th>Date of contract</th><td>18 December 2023</td></tr>
<tr><th>Duration</th><td>48 months</td></tr></table>
<h2>Subject of the contract</h2>
<p>Supply, installation and maintenance of command and control software for the National Situation Centre,
integrating the video systems of 11 regional police directorates, the emergency call centre 112 and the
border police. The software shows incidents, patrol positions and video on a shared map and keeps an audit
trail of every operator action.</p>
<h2>Evaluation</h2>
<p>The tender of Kestrel Vision Systems Ltd received 91.5 points (price 56.0, quality 35.5). The second
admissible tender received 84.2 points. One tender was rejected because the tenderer's bank guarantee
expired before the end of the validity of its tender.</p>
<p>A complaint may be lodged with the Procurement Review Commission within 10 days of this notice.</p>
""",
        edits=(
            ("received 91.5 points", "received 91.8 points"),
            ("A complaint may be lodged with the Procurement Review Commission within 10 days of this notice.",
             "No complaint was lodged; the contract entered into force on 2 January 2024."),
        ),
    ),
    "regulation-404": Article(
        path="/legislation/regulation-404-2024",
        section=("Regulations", "/legislation/regulations"),
        title="Regulation 404/2024 on the retention of CCTV recordings: what changes for operators",
        meta="Explainer · Legislation · Published 19 March 2024",
        lede=("Regulation 404/2024 replaces the 2011 rules on video surveillance in public spaces. It shortens "
              "retention, creates a public register of cameras and sets fines for operators who do not comply."),
        body="""
<h2>Who is affected</h2>
<p>Regulation 404/2024 applies to every public authority and every company that records public spaces:
streets, squares, public transport, shopping centres and the entrances of residential buildings. About 6,300
operators are registered today; the Ministry estimates that 2,000 more will have to register.</p>
<h2>Retention</h2>
<p>Recordings may be kept for 30 days instead of 90, unless they are needed for a specific criminal
investigation or court proceeding. Recordings kept longer must be listed with the case number in the
operator's log.</p>
<h2>The public register</h2>
<p>Each camera that records a public space must be entered in the public register of video surveillance,
with its location, its operator and the purpose of the recording. The old register, kept by the Data
Protection Agency until 2023, has been closed; several operators reported that their bookmarked links to it
now show an error page reading “404 – page not found”. Those entries were not lost: they have been copied
into the new register, where operators should check them by 30 June 2024.</p>
<p>A search in the new register that returns “not found” for a camera in use means the camera has not been
registered, and its operator must register it within 15 days.</p>
<h2>Fines</h2>
<p>Operators who do not register their cameras or keep recordings longer than allowed face fines of EUR 2,000
to EUR 20,000. Article 41 of the Regulation sets out the procedure before the Data Protection Agency.</p>
<p>Questions about the Regulation can be sent to legislation@mia.example.</p>
""",
        edits=(
            ("About 6,300\noperators", "About 6,450\noperators"),
            ("Questions about the Regulation can be sent to legislation@mia.example.",
             "The Ministry will hold an information day for operators on 14 May 2024."),
        ),
    ),
})


SR_CYRL = Profile(
    key="sr-cyrl",
    lang="sr-Cyrl",
    name="Град Јаворац",
    tagline="Званична интернет презентација Града Јаворца",
    topbar=(
        '<ul class="topbar"><li><a href="/">Ћирилица</a> | <a href="/lat/">Latinica</a> | '
        '<a href="/en/">English</a></li><li><a href="/pristupacnost">Приступачност</a></li>'
        '<li>Контакт центар: 0800 100 200</li></ul>'
    ),
    nav=_nav(
        "О граду", "/o-gradu", "Историја", "/o-gradu/istorija", "Градоначелник", "/gradonacelnik",
        "Градско веће", "/gradsko-vece", "Скупштина града", "/skupstina", "Градске управе", "/uprave",
        "Месне заједнице", "/mesne-zajednice", "Услуге", "/usluge", "Обрасци", "/obrasci", "Е-управа", "/e-uprava",
        "Пријава проблема", "/prijava", "Привреда", "/privreda", "План набавки", "/nabavke/plan",
        "Отворени поступци", "/nabavke/otvoreni", "Одлуке о додели", "/nabavke/odluke", "Службени лист", "/sluzbeni-list",
        "Буџет", "/budzet", "Одлуке", "/odluke", "Вести", "/vesti", "Конкурси", "/konkursi",
        "Јавне расправе", "/javne-rasprave", "Безбедан град", "/bezbedan-grad", "Контакт", "/kontakt",
    ),
    sidebar=(
        '<section class="related"><h2>Повезано</h2><ul><li><a href="/bezbedan-grad">Пројекат „Безбедан град“'
        '</a></li><li><a href="/nabavke/odluke">Одлуке о додели уговора</a></li><li><a href="/budzet/2024">Буџет '
        'за 2024. годину</a></li></ul></section><section class="contact"><h2>Контакт центар</h2><p>Сваког '
        'радног дана од 7.30 до 15.30<br>0800 100 200 (бесплатан позив)<br>kontakt@javorac.example</p></section>'
    ),
    footer=(
        '<div class="footer-cols"><div><h2>Град Јаворац</h2><address>Трг ослобођења 1<br>34000 Јаворац<br>'
        'Телефон: 034 300 100<br>gradonacelnik@javorac.example</address></div><div><h2>Корисни линкови</h2><ul>'
        '<li><a href="https://euprava.example/">Портал е-Управа</a></li><li><a href="https://jn.example/">'
        'Портал јавних набавки</a></li></ul></div><div><h2>Сајт</h2><ul><li><a href="/privatnost">Политика '
        'приватности</a></li><li><a href="/mapa-sajta">Мапа сајта</a></li></ul></div></div>'
        '<p class="copyright">© 2024 Град Јаворац. Сва права задржана.</p>'
    ),
    news=(
        ("8. април 2024.", "Почела реконструкција Улице краља Петра", "/vesti/rekonstrukcija-kralja-petra"),
        ("2. април 2024.", "Јавни позив за суфинансирање удружења грађана", "/vesti/javni-poziv-udruzenja"),
        ("25. март 2024.", "Безбедан град: постављено 412 камера", "/vesti/bezbedan-grad-412-kamera"),
        ("18. март 2024.", "Седница Скупштине града 28. марта", "/vesti/sednica-skupstine"),
    ),
    ui={
        "home": "Почетна",
        "skip": "Пређи на садржај",
        "search_label": "Претрага сајта",
        "search_button": "Тражи",
        "menu": "Главни мени",
        "you_are_here": "Налазите се на:",
        "share": "Поделите: Facebook · X · Имејл · Штампај",
        "updated": "Последња измена: 25. март 2024.",
        "nf_title": "Страница није пронађена",
        "nf_h1": "Страница није пронађена",
        "nf_text": (
            "<p>Страница коју тражите не постоји, премештена је или је привремено недоступна.</p>"
            "<p>Проверите да ли сте исправно унели адресу, вратите се на <a href=\"/\">почетну страницу</a> "
            "или употребите претрагу у заглављу сајта.</p>"
        ),
        "home_title": "Добродошли у Јаворац",
        "home_lede": "Вести, услуге и документи Града Јаворца.",
        "latest": "Најновије вести",
        "more": "Опширније",
    },
)

SR_CYRL.articles.update({
    "bezbedan-grad": Article(
        path="/vesti/bezbedan-grad-412-kamera",
        section=("Вести", "/vesti"),
        title="Пројекат „Безбедан град“: у Јаворцу постављено 412 камера на 96 локација",
        meta="Вести · 25. март 2024.",
        lede=("Завршена је прва фаза пројекта „Безбедан град“: на 96 локација у граду постављено је 412 камера, "
              "које су повезане са новим оперативним центром Полицијске управе."),
        body="""
<p>Градоначелник Јаворца и начелник Полицијске управе обишли су данас нови оперативни центар у згради
Полицијске управе, из ког се прати слика са 412 камера постављених на раскрсницама, трговима, код школа и на
улазима у град. Камере на 28 локација опремљене су системом за читање регистарских таблица.</p>
<p>Уговор вредан 487,3 милиона динара без ПДВ-а потписан је 15. новембра 2022. године, након отвореног
поступка јавне набавке у ком су учествовала два понуђача. Радове је извео конзорцијум предвођен домаћом
фирмом „Јаворац Телеком“, а опрему је испоручио страни произвођач.</p>
<table class="facts"><tr><th>Број камера</th><td>412</td></tr><tr><th>Број локација</th><td>96</td></tr>
<tr><th>Читачи таблица</th><td>28 локација</td></tr><tr><th>Вредност уговора</th><td>487,3 милиона динара</td></tr>
<tr><th>Рок чувања снимака</th><td>30 дана</td></tr></table>
<p>Према речима начелника, снимци се чувају 30 дана, а приступ им имају само овлашћени полицијски службеници.
Повереник за информације од јавног значаја затражио је од Града процену утицаја на заштиту података о
личности, која ће бити објављена на сајту.</p>
<p>Друга фаза пројекта, са још 180 камера у приградским насељима, планирана је за 2025. годину.</p>
""",
        edits=(
            ("са још 180 камера", "са још 240 камера"),
            ("Повереник за информације од јавног значаја затражио је од Града процену утицаја",
             "Град је објавио процену утицаја"),
        ),
    ),
})


SR_LATN = Profile(
    key="sr-latn",
    lang="sr-Latn",
    name="Istražujemo",
    tagline="Portal za istraživačko novinarstvo",
    topbar=(
        '<ul class="topbar"><li><a href="/">Latinica</a> | <a href="/cir/">Ћирилица</a> | <a href="/en/">English'
        '</a></li><li><a href="/pretplata">Pretplata na bilten</a></li><li><a href="/podrzite">Podržite nas</a>'
        '</li></ul>'
    ),
    nav=_nav(
        "Istraživanja", "/istrazivanja", "Javne nabavke", "/teme/javne-nabavke", "Bezbednost", "/teme/bezbednost",
        "Nadzor", "/teme/nadzor", "Pravosuđe", "/teme/pravosudje", "Životna sredina", "/teme/zivotna-sredina",
        "Lokalna samouprava", "/teme/lokalna-samouprava", "Mediji", "/teme/mediji", "Podaci", "/podaci",
        "Baze podataka", "/baze", "Vodič kroz nabavke", "/vodic", "Intervjui", "/intervjui",
        "Komentari", "/komentari", "Video", "/video", "Podkast", "/podkast", "O nama", "/o-nama",
        "Redakcija", "/redakcija", "Donatori", "/donatori", "Impresum", "/impresum", "Kontakt", "/kontakt",
        "Pošaljite dokument", "/posaljite", "Pretplata", "/pretplata", "English", "/en/",
    ),
    sidebar=(
        '<section class="related"><h2>Najčitanije</h2><ol><li><a href="/istrazivanja/tender-za-policijska-'
        'vozila">Tender za policijska vozila: jedan ponuđač, tri aneksa</a></li><li><a href="/istrazivanja/'
        'softver-za-prisluskivanje">Ko je prodao softver za prisluškivanje</a></li><li><a href="/podaci/'
        'kamere-mapa">Mapa kamera u Beogradu</a></li></ol></section><section class="newsletter"><h2>Bilten</h2>'
        '<p>Svakog petka najvažnije priče nedelje u vašem sandučetu.</p><form action="/pretplata"><input '
        'type="email" name="email" placeholder="vaša adresa"><button>Prijavi se</button></form></section>'
    ),
    footer=(
        '<div class="footer-cols"><div><h2>Istražujemo</h2><address>Udruženje za istraživačko novinarstvo<br>'
        'Kneza Miloša 7a, 11000 Beograd<br>redakcija@istrazujemo.example</address></div><div><h2>Portal</h2><ul>'
        '<li><a href="/o-nama">O nama</a></li><li><a href="/impresum">Impresum</a></li><li><a href="/pravila">'
        'Pravila korišćenja</a></li><li><a href="/privatnost">Privatnost</a></li></ul></div></div>'
        '<p class="copyright">© 2015–2024 Istražujemo. Sadržaj je dostupan pod licencom CC BY-NC-ND 4.0.</p>'
    ),
    news=(
        ("9. april 2024.", "Tender za policijska vozila: jedan ponuđač, tri aneksa", "/istrazivanja/tender-za-policijska-vozila"),
        ("28. mart 2024.", "Kamere sa prepoznavanjem lica: šta je kupljeno za 18,4 miliona evra", "/istrazivanja/kamere-prepoznavanje-lica-mup"),
        ("14. mart 2024.", "Ko je prodao softver za prisluškivanje", "/istrazivanja/softver-za-prisluskivanje"),
    ),
    ui={
        "home": "Naslovna",
        "skip": "Pređi na sadržaj",
        "search_label": "Pretraga",
        "search_button": "Traži",
        "menu": "Glavni meni",
        "you_are_here": "Nalazite se na:",
        "share": "Podelite: Facebook · X · Telegram · Imejl",
        "updated": "Ažurirano: 29. mart 2024.",
        "nf_title": "Stranica nije pronađena",
        "nf_h1": "Stranica nije pronađena",
        "nf_text": (
            "<p>Stranica koju tražite ne postoji ili je uklonjena. Možda je adresa pogrešno uneta, a možda je tekst "
            "premešten u arhivu.</p><p>Vratite se na <a href=\"/\">naslovnu stranu</a> ili potražite tekst "
            "pretragom.</p>"
        ),
        "home_title": "Istražujemo",
        "home_lede": "Istraživačke priče o javnom novcu, bezbednosti i nadzoru.",
        "latest": "Najnovije",
        "more": "Opširnije",
    },
)

SR_LATN.articles.update({
    "kamere-mup": Article(
        path="/istrazivanja/kamere-prepoznavanje-lica-mup",
        section=("Istraživanja", "/istrazivanja"),
        title="Kamere sa prepoznavanjem lica: šta je kupljeno za 18,4 miliona evra",
        meta="Istraživanja · Nadzor · 28. mart 2024. · Autorka: redakcija Istražujemo",
        lede=("Ugovori do kojih smo došli pokazuju da je za sistem video-nadzora sa prepoznavanjem lica plaćeno "
              "18,4 miliona evra, iako javna nabavka nikada nije objavljena."),
        body="""
<p>Na osnovu zahteva za pristup informacijama od javnog značaja dobili smo tri ugovora i dva aneksa kojima je
nabavljeno ukupno 1.120 kamera, softver za analizu video-zapisa i oprema za dva operativna centra. Ugovori su
zaključeni bez javnog poziva, pozivanjem na izuzetak iz člana 11. Zakona o javnim nabavkama.</p>
<p>Prvi ugovor, vredan 11,2 miliona evra, potpisan je u februaru 2020. godine. Aneksom iz septembra iste godine
vrednost je povećana za 3,9 miliona evra, a drugim aneksom za još 3,3 miliona. Nijedan dokument ne navodi
koliko će se snimci čuvati ni ko im ima pristup.</p>
<table class="facts"><tr><th>Kamere</th><td>1.120</td></tr><tr><th>Ukupna vrednost</th><td>18,4 miliona evra</td></tr>
<tr><th>Ugovori i aneksi</th><td>3 ugovora, 2 aneksa</td></tr><tr><th>Javni poziv</th><td>nije objavljen</td></tr></table>
<p>Poverenik za informacije od javnog značaja i zaštitu podataka o ličnosti je 2021. godine ocenio da procena
uticaja na zaštitu podataka ne ispunjava uslove iz zakona. Ministarstvo do danas nije objavilo novu procenu.</p>
<p>Na naša pitanja o tome koliko kamera koristi prepoznavanje lica Ministarstvo nije odgovorilo do
objavljivanja ovog teksta.</p>
""",
        edits=(
            ("ukupno 1.120 kamera", "ukupno 1.160 kamera"),
            ("Ministarstvo nije odgovorilo do\nobjavljivanja ovog teksta.",
             "Ministarstvo je odgovorilo da se prepoznavanje lica ne koristi."),
        ),
    ),
})


ZH = Profile(
    key="zh",
    lang="zh-CN",
    name="滨江市公安局",
    tagline="滨江市公安局门户网站",
    topbar=(
        '<ul class="topbar"><li>无障碍浏览</li><li><a href="/jt/">简体</a> | <a href="/ft/">繁體</a></li>'
        '<li>报警电话：110</li><li><a href="/wzdt/">网站地图</a></li></ul>'
    ),
    nav=_nav(
        "首页", "/", "机构概况", "/jggk/", "局领导", "/jggk/jld/", "内设机构", "/jggk/nsjg/", "警务公开", "/jwgk/",
        "通知公告", "/zwgk/tzgg/", "政策法规", "/zcfg/", "办事指南", "/bszn/", "户政业务", "/bszn/hz/",
        "出入境", "/bszn/crj/", "交通管理", "/bszn/jt/", "治安管理", "/bszn/za/", "网上办事", "/wsbs/",
        "互动交流", "/hdjl/", "局长信箱", "/hdjl/jzxx/", "在线咨询", "/hdjl/zxzx/", "政府采购", "/zwgk/zfcg/",
        "采购公告", "/zwgk/cggg/", "中标公告", "/zwgk/zbgg/", "合同公示", "/zwgk/htgs/", "警方通报", "/jftb/",
        "平安建设", "/pajs/", "视频新闻", "/spxw/", "联系我们", "/lxwm/",
    ),
    sidebar=(
        '<section class="related"><h2>相关公告</h2><ul><li><a href="/zwgk/cggg/202311/t20231108_104417.html">'
        '“平安城市”视频监控系统建设项目（二期）招标公告</a></li><li><a href="/zwgk/htgs/202312/t20231229_107203.'
        'html">“平安城市”一期项目合同公示</a></li></ul></section><section class="contact"><h2>联系方式</h2>'
        '<p>采购办公室：0571-8800 2210<br>工作时间：周一至周五 8:30-17:00</p></section>'
    ),
    footer=(
        '<div class="footer-cols"><div><h2>滨江市公安局</h2><address>地址：滨江市江滨大道88号<br>邮编：310051<br>'
        '电话：0571-8800 2000</address></div><div><h2>友情链接</h2><ul><li><a href="https://gov.example/">'
        '滨江市人民政府</a></li><li><a href="https://ccgp.example/">政府采购网</a></li></ul></div></div>'
        '<p class="copyright">版权所有：滨江市公安局　主办单位：滨江市公安局办公室　网站标识码：3301000012　'
        '备案号：滨ICP备12003456号</p>'
    ),
    news=(
        ("2024-04-09", "市公安局召开全市交通安全工作会议", "/jwgk/202404/t20240409_120114.html"),
        ("2024-03-15", "“平安城市”视频监控系统建设项目（二期）中标结果公告", "/zwgk/cggg/202403/t20240315_118842.html"),
        ("2024-03-01", "关于调整出入境证件办理时间的通知", "/zwgk/tzgg/202403/t20240301_117730.html"),
        ("2024-02-20", "2023年全市社会治安形势通报", "/jftb/202402/t20240220_116921.html"),
    ),
    ui={
        "home": "首页",
        "skip": "跳转到主要内容",
        "search_label": "站内搜索",
        "search_button": "搜索",
        "menu": "主菜单",
        "you_are_here": "当前位置：",
        "share": "分享到：微信 · 微博 · 打印本页 · 关闭窗口",
        "updated": "发布日期：2024-03-15　来源：滨江市公安局",
        "nf_title": "页面不存在",
        "nf_h1": "抱歉，您访问的页面不存在",
        "nf_text": (
            "<p>您访问的页面可能已被删除、更名或暂时不可用。</p>"
            "<p>请检查您输入的网址是否正确，或返回<a href=\"/\">网站首页</a>继续浏览。</p>"
        ),
        "home_title": "滨江市公安局",
        "home_lede": "警务公开、办事指南、通知公告。",
        "latest": "最新动态",
        "more": "更多",
    },
)

ZH.articles.update({
    "pacs-zbgg": Article(
        path="/zwgk/cggg/202403/t20240315_118842.html",
        section=("采购公告", "/zwgk/cggg/"),
        title="滨江市“平安城市”视频监控系统建设项目（二期）中标结果公告",
        meta="发布日期：2024-03-15　项目编号：BJCG-2024-0317",
        lede="滨江市公安局“平安城市”视频监控系统建设项目（二期）已完成评标，现将中标结果公告如下。",
        body="""
<h2>一、项目基本情况</h2>
<p>项目编号：BJCG-2024-0317<br>项目名称：滨江市“平安城市”视频监控系统建设项目（二期）<br>
采购方式：公开招标<br>预算金额：人民币 92,000,000.00 元</p>
<h2>二、中标信息</h2>
<table class="notice-data"><tr><th>中标供应商</th><td>滨江安视科技股份有限公司</td></tr>
<tr><th>供应商地址</th><td>滨江市高新区科技路16号</td></tr>
<tr><th>中标金额</th><td>人民币 86,420,000.00 元</td></tr>
<tr><th>服务期限</th><td>合同签订之日起 18 个月</td></tr></table>
<h2>三、主要标的信息</h2>
<p>高清网络摄像机 2,360 台，其中人脸识别摄像机 420 台、车辆卡口 136 套；视频云存储 4.8PB；
市级视频监控指挥中心平台一套。建设范围覆盖主城区 6 个街道及高铁站、客运中心等重点区域。</p>
<h2>四、评审专家名单</h2>
<p>王建华、李敏、张志强、陈丽、刘洋（组长）</p>
<h2>五、公告期限</h2>
<p>自本公告发布之日起 1 个工作日。各有关当事人对中标结果有异议的，可以在中标公告期限届满之日起
7 个工作日内，以书面形式向采购人提出质疑。</p>
<h2>六、联系方式</h2>
<p>采购人：滨江市公安局　联系人：周先生　电话：0571-8800 2210<br>
采购代理机构：滨江市公共资源交易中心　电话：0571-8800 6600</p>
""",
        edits=(
            ("高清网络摄像机 2,360 台", "高清网络摄像机 2,480 台"),
            ("自本公告发布之日起 1 个工作日。", "自本公告发布之日起 3 个工作日。"),
        ),
    ),
})

PROFILES: dict[str, Profile] = {p.key: p for p in (VENDOR, MINISTRY, SR_CYRL, SR_LATN, ZH)}

_NOT_FOUND_UI = {"en": UI_EN, "sr-cyrl": SR_CYRL.ui, "sr-latn": SR_LATN.ui, "zh": ZH.ui}


# -- pages ---------------------------------------------------------------------------------------


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


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _page(ctx: Context, *, title: str, main: str, crumbs: tuple[tuple[str, str], ...] = (),
          body_class: str = "page", description: str = "", main_tag: str = "main") -> str:
    """The site's full template around ``main``: head, header, menu, breadcrumbs, sidebar, footer."""
    p = ctx.profile
    nav = "\n".join(f'<li><a href="{href}">{label}</a></li>' for label, href in p.nav)
    trail = [(p.word("home"), "/"), *crumbs]
    crumb_html = " › ".join(
        f'<a href="{href}">{_esc(label)}</a>' if i < len(trail) - 1 else f'<span aria-current="page">{_esc(label)}</span>'
        for i, (label, href) in enumerate(trail)
    )
    q = _esc(p.word("search_label"))
    opening, closing = (f'<{main_tag} id="content" class="content">', f"</{main_tag}>")
    return f"""<!doctype html>
<html lang="{p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)} – {_esc(p.name)}</title>
<meta name="description" content="{_esc(description or p.tagline)}">
<meta property="og:site_name" content="{_esc(p.name)}">
<meta property="og:title" content="{_esc(title)}">
<link rel="canonical" href="{_esc(ctx.url)}">
<link rel="icon" href="/static/favicon.ico">
<link rel="stylesheet" href="/static/css/main.4f2a9c81.css">
<script src="/static/js/site.b91d07e3.js" defer></script>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"site": "{p.key}"}});</script>
</head>
<body class="{body_class}">
<a class="skip-link" href="#content">{_esc(p.word("skip"))}</a>
<header class="site-header">
{p.topbar}
<div class="brand"><a href="/" rel="home"><span class="logo">{_esc(p.name)}</span>
<span class="tagline">{_esc(p.tagline)}</span></a></div>
<form class="site-search" role="search" action="/search" method="get">
<label for="q">{q}</label><input id="q" name="q" type="search" placeholder="{q}">
<button type="submit">{_esc(p.word("search_button"))}</button></form>
<nav class="main-nav" aria-label="{_esc(p.word("menu"))}"><ul>
{nav}
</ul></nav>
</header>
<nav class="breadcrumbs" aria-label="breadcrumb">{_esc(p.word("you_are_here"))} {crumb_html}</nav>
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


def _article_main(ctx: Context, article: Article, body: str, *, wrap: str = "article") -> str:
    return f"""<{wrap} class="entry">
<header class="entry-header"><p class="entry-meta">{_esc(article.meta)}</p>
<h1>{_esc(article.title)}</h1>
<p class="lede">{_esc(article.lede)}</p></header>
<div class="entry-body">
{body}
</div>
<footer class="entry-footer"><p class="share">{_esc(ctx.profile.word("share"))}</p>
<p class="updated">{_esc(ctx.profile.word("updated"))}</p></footer>
</{wrap}>"""


def _article_page(ctx: Context, article: Article, body: str | None = None) -> Response:
    main = _article_main(ctx, article, article.body if body is None else body)
    crumbs = (article.section, (article.title, article.path))
    return Response(200, _page(ctx, title=article.title, main=main, crumbs=crumbs, body_class="page article",
                               description=article.lede).encode())


def _edited(article: Article) -> str:
    body = article.body
    for old, new in article.edits:
        if old not in body:
            raise AssertionError(f"the edit {old!r} of {article.path} does not match its text")
        body = body.replace(old, new)
    return body


def _message_page(ctx: Context, status: int, title: str, h1: str, text: str, *, body_class: str,
                  headers: list | None = None) -> Response:
    main = f'<section class="message {body_class}">\n<h1>{_esc(h1)}</h1>\n{text}\n</section>'
    return Response(status, _page(ctx, title=title, main=main, crumbs=((title, ctx.path),),
                                  body_class=f"page {body_class}").encode(), headers or [])


def _not_found(lang: str, status: int):
    def build(ctx: Context) -> Response:
        ui = _NOT_FOUND_UI[lang]
        return _message_page(ctx, status, ui["nf_title"], ui["nf_h1"], ui["nf_text"], body_class="error-404")
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
    main = _article_main(ctx, a, a.body, wrap="div")
    page = _page(ctx, title=a.title, main=main, crumbs=(a.section, (a.title, a.path)),
                 body_class="page post-2024", description=a.lede, main_tag="div")
    assert "<main" not in page and "<article" not in page, p.key
    return Response(200, page.encode())


def _emptied(ctx: Context) -> Response:
    a = ctx.article
    main = f'<article class="entry">\n<p class="notice">{_esc(ctx.profile.word("emptied"))}</p>\n</article>'
    return Response(200, _page(ctx, title=a.title, main=main, crumbs=(a.section, (a.title, a.path)),
                               body_class="page article").encode())


def _gone(ctx: Context) -> Response:
    p = ctx.profile
    return _message_page(ctx, 410, p.word("gone_title"), p.word("gone_h1"), p.word("gone_text"), body_class="error-410")


def _forbidden(ctx: Context) -> Response:
    p = ctx.profile
    return _message_page(ctx, 403, p.word("forbidden_title"), p.word("forbidden_h1"), p.word("forbidden_text"),
                         body_class="error-403")


def _generic_unknown(ctx: Context) -> Response:
    p = ctx.profile
    return _message_page(ctx, 200, p.word("unavailable_title"), p.word("unavailable_h1"), p.word("unavailable_text"),
                         body_class="unavailable")


def _home(ctx: Context) -> Response:
    p = ctx.profile
    items = "\n".join(
        f'<li class="teaser"><time>{_esc(date)}</time> <a href="{href}">{_esc(title)}</a> '
        f'<a class="more" href="{href}">{_esc(p.word("more"))}</a></li>'
        for date, title, href in p.news
    )
    main = (f'<section class="hero"><h1>{_esc(p.word("home_title"))}</h1><p>{_esc(p.word("home_lede"))}</p></section>\n'
            f'<section class="news"><h2>{_esc(p.word("latest"))}</h2><ul class="news-list">\n{items}\n</ul></section>')
    page = _page(ctx, title=p.word("home_title"), main=main, body_class="home")
    return Response(200, page.encode())


def _login(ctx: Context) -> Response:
    p = ctx.profile
    nxt = parse_qs(urlsplit(ctx.path).query).get("next", ["/"])[0]
    main = f"""<section class="login"><h1>{_esc(p.word("login_h1"))}</h1>
<form method="post" action="/login" class="login-form">
<input type="hidden" name="next" value="{_esc(nxt)}">
<input type="hidden" name="csrfmiddlewaretoken" value="Vq3kP9xR2mT7wL1sN8bC4dF6gH0jK5zY">
<label for="username">{_esc(p.word("login_user"))}</label>
<input id="username" name="username" type="text" autocomplete="username" required>
<label for="password">{_esc(p.word("login_pass"))}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label><input type="checkbox" name="remember"> Keep me signed in on this device</label>
<button type="submit">{_esc(p.word("login_button"))}</button>
</form>
{p.word("login_help")}
</section>"""
    return Response(200, _page(ctx, title=p.word("login_title"), main=main, crumbs=((p.word("login_title"), "/login"),),
                               body_class="page login").encode())


def _search(ctx: Context) -> Response:
    p = ctx.profile
    q = parse_qs(urlsplit(ctx.path).query).get("q", [""])[0]
    main = f"""<section class="search-results"><h1>{_esc(p.word("search_h1"))}</h1>
<form action="/search" method="get"><input name="q" type="search" value="{_esc(q)}">
<button type="submit">{_esc(p.word("search_button"))}</button></form>
<div class="facets"><h2>Filter</h2><ul><li>All sections</li><li>News</li><li>Documents</li><li>Pages</li></ul>
<h2>Date</h2><ul><li>Any time</li><li>Past year</li><li>Past month</li></ul></div>
<p class="result-count">{_esc(p.word("search_none").format(q=q))}</p>
{p.word("search_help")}
</section>"""
    return Response(200, _page(ctx, title=p.word("search_title"), main=main, crumbs=((p.word("search_title"), "/search"),),
                               body_class="page search").encode())


def _signpost(ctx: Context) -> Response:
    p = ctx.profile
    return _message_page(ctx, 200, p.word("signpost_title"), p.word("signpost_h1"), p.word("signpost_text"),
                         body_class="signpost")


def _status_503(ctx: Context) -> Response:
    name = _esc(ctx.profile.name)
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scheduled maintenance – {name}</title>
<meta name="robots" content="noindex">
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}}
h1{{font-size:1.6em}} .box{{border:1px solid #ccc;border-radius:6px;padding:1em 1.5em;background:#fafafa}}</style>
</head><body>
<div class="box">
<p class="logo">{name}</p>
<h1>We'll be back soon</h1>
<p>Our website is undergoing scheduled maintenance to improve our services. We apologise for any
inconvenience.</p>
<p>Maintenance is expected to be completed within one hour. Urgent enquiries can be made by telephone to
the switchboard during office hours.</p>
<p><small>Error 503 – Service Temporarily Unavailable</small></p>
</div>
</body></html>
"""
    return Response(503, body.encode(), [("Retry-After", "3600")])


def _status_401(ctx: Context) -> Response:
    body = """<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>401 Unauthorized</title>
</head><body>
<h1>Unauthorized</h1>
<p>This server could not verify that you
are authorized to access the document
requested.  Either you supplied the wrong
credentials (e.g., bad password), or your
browser doesn't understand how to supply
the credentials required.</p>
<hr>
<address>Apache/2.4.57 (Debian) Server at """ + _esc(ctx.host) + """ Port 80</address>
</body></html>
"""
    return Response(401, body.encode("ascii", "xmlcharrefreplace"),
                    [("WWW-Authenticate", 'Basic realm="Procurement Extranet - registered suppliers only"'),
                     ("Server", "Apache/2.4.57 (Debian)")])


def _akamai_entities(text: str) -> str:
    """Akamai writes punctuation of its error pages as numeric character references."""
    return "".join(c if c.isalnum() else f"&#{ord(c)};" for c in text)


def _forbidden_akamai(ctx: Context) -> Response:
    ref = "18.2f3c1402.1732712345.5a1b2c"
    body = f"""<HTML><HEAD>
<TITLE>Access Denied</TITLE>
</HEAD><BODY>
<H1>Access Denied</H1>
 
You don't have permission to access "{_akamai_entities(ctx.url)}" on this server.<P>
Reference&#32;&#35;{_akamai_entities(ref)}
<P>https&#58;&#47;&#47;errors&#46;edgesuite&#46;net&#47;{_akamai_entities(ref)}</P>
</BODY>
</HTML>
"""
    return Response(403, body.encode(), [("Server", "AkamaiGHost"), ("Mime-Version", "1.0"),
                                         ("Expires", "Wed, 27 Nov 2024 12:45:45 GMT"),
                                         ("Cache-Control", "max-age=0, no-cache, no-store"), ("Pragma", "no-cache")])


def _rate_limited(ctx: Context) -> Response:
    body = """<!doctype html>
<html><head><meta charset="utf-8"><title>429 Too Many Requests</title></head>
<body>
<h1>Too Many Requests</h1>
<p>You have sent too many requests in a given amount of time. Your access to this site has been limited
for 24 hours.</p>
<p>If you believe this is an error, contact the site administrator and quote the reference below.</p>
<p>Reference: rl-7f3a2c91e5 · Limit: 600 requests per 10 minutes</p>
<hr><p>nginx</p>
</body></html>
"""
    return Response(429, body.encode(), [("Retry-After", "86400"), ("Server", "nginx")])


_CF_RAY = "8e1f2a3b4c5d6e7f"
_CF_HEADERS = [
    ("Server", "cloudflare"), ("CF-RAY", f"{_CF_RAY}-FRA"),
    ("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0"),
    ("Expires", "Thu, 01 Jan 1970 00:00:01 GMT"), ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "SAMEORIGIN"), ("X-Content-Type-Options", "nosniff"),
    ("Permissions-Policy", ",".join(f"{feature}=()" for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera", "clipboard-read", "clipboard-write", "geolocation",
        "gyroscope", "hid", "interest-cohort", "magnetometer", "microphone", "payment", "publickey-credentials-get",
        "serial", "sync-xhr", "usb"))),
    ("Cross-Origin-Embedder-Policy", "require-corp"), ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"), ("Origin-Agent-Cluster", "?1"),
]


def _challenge_cloudflare(status: int):
    def build(ctx: Context) -> Response:
        host = _esc(ctx.host)
        body = f"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex,nofollow"><meta name="viewport" content="width=device-width,initial-scale=1"><style>*{{box-sizing:border-box;margin:0;padding:0}}html{{line-height:1.15;-webkit-text-size-adjust:100%;color:#313131;font-family:system-ui,-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}}body{{display:flex;flex-direction:column;height:100vh;min-height:100vh}}.main-content{{margin:8rem auto;max-width:60rem;padding-left:1.5rem}}.h2{{font-size:1.5rem;font-weight:500;line-height:2.25rem}}@media (width <= 720px){{.main-content{{margin-top:4rem}}}}#challenge-error-text{{background-image:url("data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIzMiIgaGVpZ2h0PSIzMiIgZmlsbD0ibm9uZSI+PC9zdmc+");padding-left:34px;background-repeat:no-repeat;background-size:contain}}</style><meta http-equiv="refresh" content="390"></head><body class="no-js"><div class="main-wrapper" role="main"><div class="main-content"><h1 class="zone-name-title h1">{host}</h1><p class="h2 spacer-bottom">Verifying you are human. This may take a few seconds.</p><div id="challenge-stage"></div><div id="challenge-body-text" class="core-msg spacer">{host} needs to review the security of your connection before proceeding.</div><noscript><div id="challenge-error-title"><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></div></noscript></div></div><script>(function(){{window._cf_chl_opt={{cvId: '3',cZone: "{host}",cType: 'managed',cNounce: '41729',cRay: '{_CF_RAY}',cHash: '9c1d4b2e7f3a6058',cUPMDTk: "\\/?__cf_chl_tk=Qm9ndXNUb2tlbkZvclRlc3RzT25seQ-1732712345-0.0.1.1-4310",cFPWv: 'b',cTTimeMs: '1000',cMTimeMs: '390000',cTplV: 5,cTplB: 'cf',cK: "",fa: "\\/?__cf_chl_f_tk=Qm9ndXNUb2tlbkZvclRlc3RzT25seQ-1732712345-0.0.1.1-4310",md: "c2FtcGxlLWNoYWxsZW5nZS1tZXRhZGF0YS1mb3ItdGVzdHMtb25seQ",mdrd: "",cRq: {{ru: 'aHR0cDovL2V4YW1wbGUudGVzdC8=',ra: 'bGFzdHNlZW4=',rm: 'R0VU',d: 'c2FtcGxl',t: 'MTczMjcxMjM0NS4wMDAwMDA=',cT: Math.floor(Date.now() / 1000),m: 'c2FtcGxl',i1: 'c2FtcGxl',i2: 'c2FtcGxl',zh: 'c2FtcGxl',uh: 'c2FtcGxl',hh: 'c2FtcGxl',}}}};var cpo = document.createElement('script');cpo.src = '/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray={_CF_RAY}';window._cf_chl_opt.cOgUHash = location.hash === '' && location.href.indexOf('#') !== -1 ? '#' : location.hash;window._cf_chl_opt.cOgUQuery = location.search === '' && location.href.slice(0, location.href.length - window._cf_chl_opt.cOgUHash.length).indexOf('?') !== -1 ? '?' : location.search;if (window.history && window.history.replaceState) {{var ogU = location.pathname + window._cf_chl_opt.cOgUQuery + window._cf_chl_opt.cOgUHash;history.replaceState(null, null, "\\/?__cf_chl_rt_tk=Qm9ndXNUb2tlbkZvclRlc3RzT25seQ-1732712345-0.0.1.1-4310" + window._cf_chl_opt.cOgUHash);cpo.onload = function() {{history.replaceState(null, null, ogU);}};}}document.getElementsByTagName('head')[0].appendChild(cpo);}}());</script><div class="footer" role="contentinfo"><div class="footer-inner"><div class="clearfix diagnostic-wrapper"><div class="ray-id">Ray ID: <code>{_CF_RAY}</code></div></div><div class="text-center" id="footer-text">Performance &amp; security by <a rel="noopener noreferrer" href="https://www.cloudflare.com?utm_source=challenge&amp;utm_campaign=m" target="_blank">Cloudflare</a></div></div></div></body></html>"""
        return Response(status, body.encode(), [*_CF_HEADERS, ("cf-mitigated", "challenge")])
    return build


def _block_cloudflare(ctx: Context) -> Response:
    host = _esc(ctx.host)
    ray = "8e1f2a3b4c5d6e80"
    body = f"""<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if IE 7]>    <html class="no-js ie7 oldie" lang="en-US"> <![endif]-->
<!--[if IE 8]>    <html class="no-js ie8 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>Attention Required! | Cloudflare</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta http-equiv="X-UA-Compatible" content="IE=Edge" />
<meta name="robots" content="noindex, nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/cf.errors.css" />
<script>
  if (!navigator.cookieEnabled) {{
    window.addEventListener('DOMContentLoaded', function () {{
      var cookieEl = document.getElementById('cookie-alert');
      cookieEl.style.display = 'block';
    }})
  }}
</script>
</head>
<body>
  <div id="cf-wrapper">
    <div class="cf-alert cf-alert-error cf-cookie-error" id="cookie-alert" data-translate="enable_cookies">Please enable cookies.</div>
    <div id="cf-error-details" class="cf-error-details-wrapper">
      <div class="cf-wrapper cf-header cf-error-overview">
        <h1 data-translate="block_headline">Sorry, you have been blocked</h1>
        <h2 class="cf-subheadline"><span data-translate="unable_to_access">You are unable to access</span> {host}</h2>
      </div>
      <div class="cf-section cf-highlight">
        <div class="cf-wrapper">
          <div class="cf-screenshot-container cf-screenshot-full">
            <span class="cf-no-screenshot error"></span>
          </div>
        </div>
      </div>
      <div class="cf-section cf-wrapper">
        <div class="cf-columns two">
          <div class="cf-column">
            <h2 data-translate="blocked_why_headline">Why have I been blocked?</h2>
            <p data-translate="blocked_why_detail">This website is using a security service to protect itself from online attacks. The action you just performed triggered the security solution. There are several actions that could trigger this block including submitting a certain word or phrase, a SQL command or malformed data.</p>
          </div>
          <div class="cf-column">
            <h2 data-translate="blocked_resolve_headline">What can I do to resolve this?</h2>
            <p data-translate="blocked_resolve_detail">You can email the site owner to let them know you were blocked. Please include what you were doing when this page came up and the Cloudflare Ray ID found at the bottom of this page.</p>
          </div>
        </div>
      </div>
      <div class="cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto text-center sm:text-left border-solid border-0 border-t border-gray-300">
        <p class="text-13">
          <span class="cf-footer-item sm:block sm:mb-1">Cloudflare Ray ID: <strong class="font-semibold">{ray}</strong></span>
          <span class="cf-footer-separator sm:hidden">&bull;</span>
          <span id="cf-footer-item-ip" class="cf-footer-item hidden sm:block sm:mb-1">
            Your IP:
            <button type="button" id="cf-footer-ip-reveal" class="cf-footer-ip-reveal-btn">Click to reveal</button>
            <span class="hidden" id="cf-footer-ip">203.0.113.7</span>
            <span class="cf-footer-separator sm:hidden">&bull;</span>
          </span>
          <span class="cf-footer-item sm:block sm:mb-1"><span>Performance &amp; security by</span> <a rel="noopener noreferrer" href="https://www.cloudflare.com/5xx-error-landing" id="brand_link" target="_blank">Cloudflare</a></span>
        </p>
      </div>
    </div>
  </div>
</body>
</html>
"""
    return Response(403, body.encode(), [*_CF_HEADERS[:3], ("X-Frame-Options", "SAMEORIGIN")])


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
    "status-503": _status_503,
    "status-401": _status_401,
    "forbidden": _forbidden,
    "forbidden-akamai": _forbidden_akamai,
    "rate-limited": _rate_limited,
    "challenge-cloudflare-200": _challenge_cloudflare(200),
    "challenge-cloudflare-503": _challenge_cloudflare(503),
    "block-cloudflare": _block_cloudflare,
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


# -- the data file -------------------------------------------------------------------------------


EXPECT_KEYS = {"verdict", "reason", "alert", "confirmed", "flags", "final_url"}
SHORTHANDS = {"new", "unchanged"}   # {verdict: X, reason: null, alert: false, confirmed: null}
ROW_KEYS = {"id", "about", "site", "article", "path", "target", "unknown", "runs"}
REDIRECT_KEYS = {"redirect", "status", "serves"}


@dataclass(frozen=True)
class Redirect:
    location: str    # with {host} and {path} filled in
    status: int
    serves: str | None   # what the location serves; None: what its path serves anyway

    def words(self) -> str:
        return f"{self.status} → {self.location}"


@dataclass(frozen=True)
class Run:
    serve: tuple            # behaviour names or Redirects, for the 1st, 2nd... request of the URL in the run
    expect: dict            # verdict, reason, alert, confirmed, flags (list), final_url (suffix or None)


@dataclass(frozen=True)
class Scenario:
    id: str
    about: str
    site: str
    article: str
    path: str
    target: dict
    unknown: str
    runs: tuple[Run, ...]

    @property
    def host(self) -> str:
        return f"{self.id}.test"

    @property
    def url(self) -> str:
        return f"http://{self.host}{self.path}"

    def run(self, n: int) -> Run:
        """What run ``n`` (1-based) serves: a row with fewer runs keeps serving its last."""
        return self.runs[min(n, len(self.runs)) - 1]

    def redirects(self) -> list[Redirect]:
        return [s for r in self.runs for s in r.serve if isinstance(s, Redirect)]


class ScenarioError(ValueError):
    pass


def _problem(where: str, message: str):
    return ScenarioError(f"tests/scenarios/vanish.yaml, {where}: {message}")


def _expect(value, where: str) -> dict:
    if isinstance(value, str):
        if value not in SHORTHANDS:
            raise _problem(where, f"expect {value!r}: a shorthand is one of {sorted(SHORTHANDS)}, else a mapping")
        value = {"verdict": value}
    if not isinstance(value, dict) or not set(value) <= EXPECT_KEYS or "verdict" not in value:
        raise _problem(where, f"expect needs verdict and only {sorted(EXPECT_KEYS)}: {value!r}")
    out = {"verdict": value["verdict"], "reason": value.get("reason"), "alert": value.get("alert", False),
           "confirmed": value.get("confirmed"), "flags": list(value.get("flags", [])),
           "final_url": value.get("final_url")}
    if not isinstance(out["alert"], bool) or out["confirmed"] not in (True, False, None):
        raise _problem(where, f"alert is true/false, confirmed true/false/null: {value!r}")
    return out


def _serve(value, where: str, host: str, path: str) -> tuple:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _problem(where, "serve is empty")
    out = []
    for item in items:
        if isinstance(item, str):
            if item not in BEHAVIOURS:
                raise _problem(where, f"unknown behaviour {item!r}; known: {', '.join(BEHAVIOURS)}")
            out.append(item)
        elif isinstance(item, dict) and "redirect" in item and set(item) <= REDIRECT_KEYS:
            serves = item.get("serves")
            if serves is not None and serves not in BEHAVIOURS:
                raise _problem(where, f"unknown behaviour {serves!r} in serves")
            location = item["redirect"].replace("{host}", host).replace("{path}", path)
            target = urlsplit(location)
            if target.hostname and target.hostname != host and not target.hostname.endswith("." + host):
                raise _problem(where, f"a redirect may name {host} or a host under it, not {target.hostname}")
            out.append(Redirect(location, int(item.get("status", 301)), serves))
        else:
            raise _problem(where, f"serve is a behaviour, a list of them, or {{redirect, status, serves}}: {item!r}")
    return tuple(out)


def load_scenarios(path: Path) -> list[Scenario]:
    """The rows of the data file, checked: unknown keys, behaviours and sites are errors, not skips."""
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    scenarios, seen = [], set()
    for i, row in enumerate(rows, 1):
        where = f"row {i} ({row.get('id', '?')})"
        if not set(row) <= ROW_KEYS or not {"id", "about", "runs"} <= set(row):
            raise _problem(where, f"a row has id, about, runs and optionally {sorted(ROW_KEYS)}: {sorted(row)}")
        if row["id"] in seen:
            raise _problem(where, "duplicate id")
        seen.add(row["id"])
        site = row.get("site", "vendor")
        if site not in PROFILES:
            raise _problem(where, f"unknown site {site!r}; known: {', '.join(PROFILES)}")
        profile = PROFILES[site]
        article = row.get("article", next(iter(profile.articles)))
        if article not in profile.articles:
            raise _problem(where, f"site {site} has no article {article!r}; it has {', '.join(profile.articles)}")
        path = row.get("path", profile.articles[article].path)
        unknown = row.get("unknown", "not-found-404")
        if unknown not in BEHAVIOURS:
            raise _problem(where, f"unknown behaviour {unknown!r} for unknown paths")
        host = f"{row['id']}.test"
        runs = tuple(
            Run(_serve(r.get("serve"), f"{where} run {n}", host, path), _expect(r.get("expect"), f"{where} run {n}"))
            for n, r in enumerate(row["runs"], 1)
        )
        scenarios.append(Scenario(row["id"], " ".join(str(row["about"]).split()), site, article, path,
                                  dict(row.get("target") or {}), unknown, runs))
    return scenarios


# -- the server ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    run: int
    scheme: str
    host: str
    path: str        # with the query
    status: int      # what was answered

    @property
    def bare_path(self) -> str:
        return urlsplit(self.path).path


class _Writer(io.RawIOBase):
    """A file that writes all it is given to a (TLS) socket."""

    def __init__(self, sock):
        self.sock = sock

    def writable(self):
        return True

    def write(self, data):
        self.sock.sendall(data)
        return len(data)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tunnel: str | None = None   # the host of a CONNECT tunnel this connection now carries

    def log_message(self, *args):
        pass

    def do_GET(self):
        web: FakeWeb = self.server.web
        if self.tunnel is not None:
            scheme, host, path = "https", self.tunnel, self.path
        else:
            parts = urlsplit(self.path)
            if parts.scheme:
                scheme, host = parts.scheme, parts.hostname or ""
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            else:
                scheme, host, path = "http", (self.headers.get("Host") or "").rsplit(":", 1)[0], self.path
        resp = web.answer(scheme, host.lower(), path)
        self._send(resp)

    def do_CONNECT(self):
        web: FakeWeb = self.server.web
        host = self.path.rsplit(":", 1)[0].lower()
        if not web.knows(host):
            self._send(Response(502, b"unknown host\n", [("Content-Type", "text/plain")]))
            self.close_connection = True
            return
        self.send_response_only(200, "Connection established")
        self.end_headers()
        try:
            tls = web.tls_context.wrap_socket(self.connection, server_side=True)
        except (OSError, ssl.SSLError):
            self.close_connection = True
            return
        # From here on this connection carries the tunnel's requests, in TLS.
        self.connection = tls
        self.rfile = tls.makefile("rb", -1)
        self.wfile = _Writer(tls)
        self.tunnel = host
        self.close_connection = False

    def finish(self):
        super().finish()
        if self.tunnel is not None:
            self.connection.close()

    def _send(self, resp: Response) -> None:
        try:
            self.send_response_only(resp.status)
            names = {k.lower() for k, _ in resp.headers}
            if "server" not in names:
                self.send_header("Server", "nginx/1.24.0")
            self.send_header("Date", email.utils.formatdate(usegmt=True))
            for k, v in resp.headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-handshake, on purpose or not


class FakeWeb:
    """Every scenario's host behind one proxy on 127.0.0.1, port 0; :meth:`step` selects the run."""

    def __init__(self, scenarios: list[Scenario], *, tls_dir: Path):
        self.scenarios = {s.id: s for s in scenarios}
        self.hosts: dict[str, Scenario] = {}
        for s in scenarios:
            self.hosts[s.host] = s
            for r in s.redirects():
                h = urlsplit(r.location).hostname
                if h:
                    self.hosts[h] = s
        self.lock = threading.Lock()
        self.run = 0
        self.requests: list[Request] = []
        self._counts: Counter = Counter()   # (run, host, bare path) -> requests so far
        cert, key = self_signed_cert(Path(tls_dir))
        self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls_context.load_cert_chain(cert, key)
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.web = self
        self.port = self.server.server_address[1]
        self.proxy = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- control

    def step(self, n: int) -> None:
        """Serve run ``n`` (1-based) of every scenario from now on."""
        with self.lock:
            self.run = n

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- what was asked

    def requests_in(self, run: int, host: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.run == run and (host is None or r.host == host)]

    def hits(self, run: int, host: str, path: str) -> int:
        """Requests of ``path`` (query ignored) on ``host`` in ``run``, http and https together."""
        bare = urlsplit(path).path
        return sum(1 for r in self.requests_in(run, host) if r.bare_path == bare)

    def probes(self, run: int, scenario: Scenario) -> list[Request]:
        """Requests in ``run`` to the scenario's hosts for anything but its target, ``/``, ``/robots.txt`` and
        redirect targets."""
        known = {(scenario.host, scenario.path)}
        for r in scenario.redirects():
            parts = urlsplit(r.location)
            known.add((parts.hostname or scenario.host, parts.path or "/"))
        return [r for r in self.requests_in(run) if self.hosts.get(r.host) is scenario
                and r.bare_path not in ("/", "/robots.txt") and (r.host, r.bare_path) not in known]

    # -- answering

    def knows(self, host: str) -> bool:
        return host in self.hosts

    def answer(self, scheme: str, host: str, path: str) -> Response:
        scenario = self.hosts.get(host)
        bare = urlsplit(path).path
        with self.lock:
            run = self.run
            self._counts[(run, host, bare)] += 1
            nth = self._counts[(run, host, bare)]
        if scenario is None:
            resp = Response(502, f"the fake web has no host {host!r}\n".encode(), [("Content-Type", "text/plain")])
        else:
            resp = self._route(scenario, run, nth, scheme, host, path)
        with self.lock:
            self.requests.append(Request(run, scheme, host, path, resp.status))
        return resp

    def _route(self, s: Scenario, run: int, nth: int, scheme: str, host: str, path: str) -> Response:
        profile = PROFILES[s.site]
        ctx = Context(profile, profile.articles[s.article], scheme, host, path, s.path)
        bare = urlsplit(path).path
        current = s.run(max(run, 1))
        if host == s.host and bare == s.path and scheme == "http":
            item = current.serve[min(nth, len(current.serve)) - 1]
            if isinstance(item, Redirect):
                return Response(item.status, b"", [("Location", item.location), ("Content-Type", HTML)])
            return render(item, ctx)
        # Redirect targets of this run or an earlier one (the latest wins).
        for r in reversed([r for rn in s.runs[:max(run, 1)] for r in rn.serve if isinstance(r, Redirect)]):
            parts = urlsplit(r.location)
            if (parts.hostname or host) == host and (parts.path or "/") == bare and (parts.scheme or scheme) == scheme:
                if r.serves is not None:
                    return render(r.serves, ctx)
                break
        if bare == "/":
            return render("home", ctx)
        if bare.startswith("/login"):
            return render("login", ctx)
        if bare.startswith("/search"):
            return render("search", ctx)
        return render(s.unknown, ctx)


def proxy_env(web: FakeWeb) -> dict[str, str | None]:
    """The environment a run needs to go through ``web`` (None: unset)."""
    return {"http_proxy": web.proxy, "https_proxy": web.proxy, "HTTP_PROXY": web.proxy, "HTTPS_PROXY": web.proxy,
            "no_proxy": None, "NO_PROXY": None, "all_proxy": None, "ALL_PROXY": None}
