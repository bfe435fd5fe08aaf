"""The two Serbian sites of the fake web: a city's official site in Cyrillic (:data:`SR_CYRL`) and
an investigative news portal in Latin script (:data:`SR_LATN`), each with its own template words
(404 page included) and an article on video surveillance procurement. Fixed text only, like every
site of the fake web.
"""

from __future__ import annotations

from .profile import Article, Profile, nav

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
    nav=nav(
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
    nav=nav(
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
