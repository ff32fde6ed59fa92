"""Prepares the benchmark against a running storefront in sandbox mode.

Usage: setup.py BASE_URL DATA_DIR OUT_DIR NOTIFICATIONS

Registers a shopper, saves three cards through the sandbox (the same browser-shaped posts the
tests make), leaves an order on its payment page, and writes:
  OUT_DIR/cookie        the shopper's session cookie ("sess=…")
  OUT_DIR/pay_path      the payment page of the pending order
  OUT_DIR/notify.lua    wrk script posting NOTIFICATIONS pre-signed unique notifications
"""

import base64
import hashlib
import hmac
import html
import http.cookiejar
import json
import re
import sys
import time
import urllib.parse
import urllib.request

BASE, DATA, OUT, COUNT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def fetch(url, fields=None):
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    with opener.open(urllib.request.Request(url if url.startswith("http") else BASE + url, data)) as r:
        return r.geturl(), r.read().decode()


def csrf(page):
    return html.unescape(re.search(r'name="csrf_token" value="([^"]*)"', page).group(1))


def form(page, marker):
    start = page.rfind("<form", 0, page.index(marker) + 1)
    chunk = page[start:page.index("</form>", start)]
    action = html.unescape(re.search(r' action="([^"]*)"', chunk).group(1))
    hidden = [(html.unescape(n), html.unescape(v)) for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', chunk)]
    return action, hidden


def post(path, page, **fields):
    return fetch(path, {"csrf_token": csrf(page), **fields})


def buy_and_save(card):
    _, page = fetch("/")
    _, page = post("/cart/add", page, slug="lokum")
    _, page = fetch("/checkout")
    url, page = post("/checkout", page, full_name="Bench Shopper", email="bench@example.com",
                     phone="0555 111 22 33", address="Kadıköy, İstanbul", accept_terms="1")
    if card is None:
        return url
    action, hidden = form(page, 'id="payment-form"')
    hidden += [("cc_owner", "BENCH"), ("card_number", card), ("expiry_month", "12"), ("expiry_year", "30"),
               ("cvv", "000"), ("store_card", "1")]
    three_d_url, page = fetch(action, hidden)
    action, _ = form(page, 'id="approve"')
    _, page = fetch(urllib.parse.urljoin(three_d_url, action), {"decision": "approve"})
    action, hidden = form(page, 'id="back-to-shop"')
    order_url, _ = fetch(action, hidden)
    order = order_url.split("/orders/")[1].split("/")[0]
    for _ in range(200):
        if 'data-status="status_paid"' in fetch(f"/orders/{order}")[1]:
            return order_url
        time.sleep(0.05)
    raise SystemExit("a benchmark purchase was not confirmed")


_, page = fetch("/register")
post("/register", page, full_name="Bench Shopper", email="bench@example.com", password="a long enough password")
# Sign-up sends a confirmation link (the sandbox's outbox shows it); following it signs in.
mailbox = fetch("/sandbox/mail")[1]
mail = mailbox[mailbox.index('data-to="bench@example.com"'):]
link = html.unescape(re.search(r'<a href="([^"]*)"[^>]*class="mail-link"', mail[:mail.index("</li>")]).group(1))
fetch(link)
for card in ["4355084355084358", "5406675406675403", "9792030394440796"]:
    buy_and_save(card)
pay_url = buy_and_save(None)
pay_page = fetch(pay_url)[1]
assert pay_page.count('name="card" value=') == 3, "three saved cards on the payment page"

cookie = next(f"{c.name}={c.value}" for c in jar if c.name in ("sess", "__Host-sess"))
open(f"{OUT}/cookie", "w").write(cookie)
open(f"{OUT}/pay_path", "w").write(urllib.parse.urlparse(pay_url).path)

merchant = json.load(open(f"{DATA}/sandbox/merchant.json"))
key, salt = merchant["merchant_key"].encode(), merchant["merchant_salt"]
bodies = []
for i in range(COUNT):
    oid = f"BENCH{i:08d}"
    digest = hmac.new(key, f"{oid}{salt}success9990".encode(), hashlib.sha256).digest()
    bodies.append(urllib.parse.urlencode({
        "merchant_oid": oid, "status": "success", "total_amount": "9990",
        "hash": base64.b64encode(digest).decode(), "currency": "TL", "payment_amount": "9990",
        "test_mode": "1", "payment_type": "card", "installment_count": "0",
    }))
with open(f"{OUT}/notify.lua", "w") as lua:
    lua.write("local bodies = {\n")
    lua.writelines(f'"{b}",\n' for b in bodies)
    lua.write("}\n")
    lua.write("""
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  i = id * 1000003 % #bodies
  bad = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
function request()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
function response(status, headers, body)
  if body ~= "OK" then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("not-OK answers: %d\\n", total))
end
""")
print("benchmark prepared: 3 saved cards, pending order, %d signed notifications" % COUNT)
