"""Pages of the fake web that are not the site's own template: what stands in front of a site when
it is down or refuses a client. A maintenance page (503), a web server's default 401, an Akamai
“Access Denied” (403), a rate limit (429), Cloudflare's “Just a moment...” challenge (200 or 503)
and its “Sorry, you have been blocked” (403), each with the headers the real ones send.
"""

from __future__ import annotations

from .template import Context, Response, esc


def status_503(ctx: Context) -> Response:
    name = esc(ctx.profile.name)
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


def status_401(ctx: Context) -> Response:
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
<address>Apache/2.4.57 (Debian) Server at """ + esc(ctx.host) + """ Port 80</address>
</body></html>
"""
    return Response(401, body.encode("ascii", "xmlcharrefreplace"),
                    [("WWW-Authenticate", 'Basic realm="Procurement Extranet - registered suppliers only"'),
                     ("Server", "Apache/2.4.57 (Debian)")])


def _akamai_entities(text: str) -> str:
    """Akamai writes punctuation of its error pages as numeric character references."""
    return "".join(c if c.isalnum() else f"&#{ord(c)};" for c in text)


def forbidden_akamai(ctx: Context) -> Response:
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


def rate_limited(ctx: Context) -> Response:
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


def challenge_cloudflare(status: int):
    def build(ctx: Context) -> Response:
        host = esc(ctx.host)
        body = f"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex,nofollow"><meta name="viewport" content="width=device-width,initial-scale=1"><style>*{{box-sizing:border-box;margin:0;padding:0}}html{{line-height:1.15;-webkit-text-size-adjust:100%;color:#313131;font-family:system-ui,-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}}body{{display:flex;flex-direction:column;height:100vh;min-height:100vh}}.main-content{{margin:8rem auto;max-width:60rem;padding-left:1.5rem}}.h2{{font-size:1.5rem;font-weight:500;line-height:2.25rem}}@media (width <= 720px){{.main-content{{margin-top:4rem}}}}#challenge-error-text{{background-image:url("data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIzMiIgaGVpZ2h0PSIzMiIgZmlsbD0ibm9uZSI+PC9zdmc+");padding-left:34px;background-repeat:no-repeat;background-size:contain}}</style><meta http-equiv="refresh" content="390"></head><body class="no-js"><div class="main-wrapper" role="main"><div class="main-content"><h1 class="zone-name-title h1">{host}</h1><p class="h2 spacer-bottom">Verifying you are human. This may take a few seconds.</p><div id="challenge-stage"></div><div id="challenge-body-text" class="core-msg spacer">{host} needs to review the security of your connection before proceeding.</div><noscript><div id="challenge-error-title"><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></div></noscript></div></div><script>(function(){{window._cf_chl_opt={{cvId: '3',cZone: "{host}",cType: 'managed',cNounce: '41729',cRay: '{_CF_RAY}',cHash: '9c1d4b2e7f3a6058',cUPMDTk: "\\/?__cf_chl_tk=Qm9ndXNUb2tlbkZvclRlc3RzT25seQ-1732712345-0.0.1.1-4310",cFPWv: 'b',cTTimeMs: '1000',cMTimeMs: '390000',cTplV: 5,cTplB: 'cf',cK: "",fa: "\\/?__cf_chl_f_tk=Qm9ndXNUb2tlbkZvclRlc3RzT25seQ-1732712345-0.0.1.1-4310",md: "c2FtcGxlLWNoYWxsZW5nZS1tZXRhZGF0YS1mb3ItdGVzdHMtb25seQ",mdrd: "",cRq: {{ru: 'aHR0cDovL2V4YW1wbGUudGVzdC8=',ra: 'bGFzdHNlZW4=',rm: 'R0VU',d: 'c2FtcGxl',t: 'MTczMjcxMjM0NS4wMDAwMDA=',cT: Math.floor(Date.now() / 1000),m: 'c2FtcGxl',i1: 'c2FtcGxl',i2: 'c2FtcGxl',zh: 'c2FtcGxl',uh: 'c2FtcGxl',hh: 'c2FtcGxl',}}}};var cpo = document.createElement('script');cpo.src = '/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray={_CF_RAY}';window._cf_chl_opt.cOgUHash = location.hash === '' && location.href.indexOf('#') !== -1 ? '#' : location.hash;window._cf_chl_opt.cOgUQuery = location.search === '' && location.href.slice(0, location.href.length - window._cf_chl_opt.cOgUHash.length).indexOf('?') !== -1 ? '?' : location.search;if (window.history && window.history.replaceState) {{var ogU = location.pathname + window._cf_chl_opt.cOgUQuery + window._cf_chl_opt.cOgUHash;history.replaceState(null, null, "\\/?__cf_chl_rt_tk=Qm9ndXNUb2tlbkZvclRlc3RzT25seQ-1732712345-0.0.1.1-4310" + window._cf_chl_opt.cOgUHash);cpo.onload = function() {{history.replaceState(null, null, ogU);}};}}document.getElementsByTagName('head')[0].appendChild(cpo);}}());</script><div class="footer" role="contentinfo"><div class="footer-inner"><div class="clearfix diagnostic-wrapper"><div class="ray-id">Ray ID: <code>{_CF_RAY}</code></div></div><div class="text-center" id="footer-text">Performance &amp; security by <a rel="noopener noreferrer" href="https://www.cloudflare.example?utm_source=challenge&amp;utm_campaign=m" target="_blank">Cloudflare</a></div></div></div></body></html>"""
        return Response(status, body.encode(), [*_CF_HEADERS, ("cf-mitigated", "challenge")])
    return build


def block_cloudflare(ctx: Context) -> Response:
    host = esc(ctx.host)
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
          <span class="cf-footer-item sm:block sm:mb-1"><span>Performance &amp; security by</span> <a rel="noopener noreferrer" href="https://www.cloudflare.example/5xx-error-landing" id="brand_link" target="_blank">Cloudflare</a></span>
        </p>
      </div>
    </div>
  </div>
</body>
</html>
"""
    return Response(403, body.encode(), [*_CF_HEADERS[:3], ("X-Frame-Options", "SAMEORIGIN")])
