"""Fills a back-office benchmark database and logs a staff member in.

Usage: backoffice.py fill DATABASE_URL ORDERS
       backoffice.py login BASE_URL OTPAUTH_URI PASSWORD OUT_DIR

fill: ORDERS orders (one in 10 failed, one in 10 pending, e-mails from 50 000 shoppers), in
      batches, SQLite through Python's sqlite3, PostgreSQL through psql with generate_series.
login: logs in at BASE_URL/admin/login with the password and a TOTP code computed here
      (RFC 6238, HMAC-SHA1), and writes OUT_DIR/admin_cookie.
"""

import base64
import hashlib
import hmac
import http.cookiejar
import struct
import subprocess
import sys
import time
import urllib.parse
import urllib.request

T0 = 1_767_225_600  # 2026-01-01


def fill(url: str, count: int) -> None:
    if url.startswith("sqlite://"):
        import sqlite3
        db = sqlite3.connect(url[len("sqlite://"):])
        db.execute("PRAGMA synchronous = OFF")
        batch = []
        for i in range(count):
            status = "failed" if i % 10 == 3 else "pending" if i % 10 == 7 else "paid"
            batch.append((f"BENCH{i:019d}", f"shopper{i % 50000}@example.com", "Bench Shopper",
                          "05551112233", "Istanbul", 1000 + i % 500000, "TL", "[]", status,
                          T0 + i * 30, T0 + i * 30))
            if len(batch) == 50_000:
                db.executemany("INSERT INTO orders (public_id, email, full_name, phone, address, "
                               "total_kurus, currency, basket_json, status, created_at, updated_at) "
                               "VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
                batch.clear()
        if batch:
            db.executemany("INSERT INTO orders (public_id, email, full_name, phone, address, "
                           "total_kurus, currency, basket_json, status, created_at, updated_at) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
        db.commit()
        db.execute("ANALYZE")
        db.close()
    else:
        sql = f"""
        INSERT INTO orders (public_id, email, full_name, phone, address, total_kurus, currency,
                            basket_json, status, created_at, updated_at)
        SELECT 'BENCH' || lpad(i::text, 19, '0'), 'shopper' || (i % 50000) || '@example.com',
               'Bench Shopper', '05551112233', 'Istanbul', 1000 + i % 500000, 'TL', '[]',
               CASE WHEN i % 10 = 3 THEN 'failed' WHEN i % 10 = 7 THEN 'pending' ELSE 'paid' END,
               {T0} + i * 30, {T0} + i * 30
        FROM generate_series(0, {count - 1}) AS i;
        ANALYZE orders;
        """
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True)


def totp(secret_b32: str, at: float) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def login(base: str, uri: str, password: str, out: str) -> None:
    query = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    email = urllib.parse.unquote(urllib.parse.urlparse(uri).path.split(":")[-1])
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    fields = {"email": email, "password": password, "code": totp(query["secret"][0], time.time())}
    opener.open(base + "/admin/login", urllib.parse.urlencode(fields).encode()).read()
    cookie = next(c for c in jar if c.name.endswith("admin_sid"))
    with open(f"{out}/admin_cookie", "w") as f:
        f.write(f"{cookie.name}={cookie.value}")


if __name__ == "__main__":
    if sys.argv[1] == "fill":
        fill(sys.argv[2], int(sys.argv[3]))
    else:
        login(*sys.argv[2:6])
