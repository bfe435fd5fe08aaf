"""The two English sites of the fake web: a surveillance vendor (:data:`VENDOR`, case studies of
city-wide camera systems) and a ministry's procurement portal (:data:`MINISTRY`, tender notices,
contract awards and a regulation whose text quotes “404 – page not found”). Fixed text only: no
randomness and no dates of today, so runs compare only what a scenario changes.
"""

from __future__ import annotations

from .profile import Article, Profile, nav

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
    nav=nav(
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
        '</ul></div><div><h2>Follow us</h2><ul><li><a href="https://social.example/company/kestrel-vision">'
        'LinkedIn</a></li><li><a href="https://video.example/@kestrelvision">YouTube</a></li></ul></div></div>'
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
    nav=nav(
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
