"""Interop check: a third-party PayTR client (paytr-python 0.3.0, unchanged) against our sandbox.

Usage: python paytr_python_client.py path/to/paytr-checkout

Starts `paytr-checkout sandbox` on a free port and a notification receiver that verifies with
paytr-python's own `handle_callback`. paytr-python signs CAPI LIST, CAPI DELETE, the
recurring charge, the refund and the status inquiry itself; only its endpoint constants are pointed at the sandbox. The first
payment (which stores the card) is a browser form in real life, so it is posted here as a
sync-mode form signed with paytr-python's own `_token`.
"""

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time

from aiohttp import ClientSession, web

import paytr.direct_api as direct_api
import paytr.refund_api as refund_api
import paytr.status_api as status_api
from paytr import PayTRClient
from paytr.exceptions import PayTRError

KEY, SALT, MID = "AbCdEfGhIjKlMnOp", "QrStUvWxYz012345", "123456"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"sandbox did not start on port {port}")


async def main(binary: str) -> None:
    client = PayTRClient(merchant_id=MID, merchant_key=KEY, merchant_salt=SALT, debug_on=True)
    verified = []

    async def notify(request: web.Request) -> web.Response:
        form = await request.post()
        body, status = await client.handle_callback(form, lambda cb: verified.append(cb) or True)
        return web.Response(text=body, status=status)

    app = web.Application()
    app.router.add_post("/notify", notify)
    runner = web.AppRunner(app)
    await runner.setup()
    notify_port, sandbox_port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", notify_port).start()

    with tempfile.TemporaryDirectory() as data:
        sandbox = subprocess.Popen([
            binary, "sandbox", "--bind", f"127.0.0.1:{sandbox_port}",
            "--merchant-id", MID, "--merchant-key", KEY, "--merchant-salt", SALT,
            "--notify-url", f"http://127.0.0.1:{notify_port}/notify",
            "--notify-interval-ms", "200", "--data-dir", data,
        ])
        try:
            wait_for(sandbox_port)
            base = f"http://127.0.0.1:{sandbox_port}"
            direct_api.CARD_LIST_URL = base + "/odeme/capi/list"
            direct_api.CARD_DELETE_URL = base + "/odeme/capi/delete"
            direct_api.DIRECT_PAYMENT_URL = base + "/odeme"
            refund_api.REFUND_URL = base + "/odeme/iade"
            status_api.STATUS_URL = base + "/odeme/durum-sorgu"
            await run_checks(client, base, verified)
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=20)
            await client.aclose()
            await runner.cleanup()


async def run_checks(client: PayTRClient, base: str, verified: list) -> None:
    signed = [MID, "85.34.78.112", "PYSTORE1", "buyer@example.com", "10.00", "card", "0", "TL", "1", "1"]
    names = ["merchant_id", "user_ip", "merchant_oid", "email", "payment_amount", "payment_type",
             "installment_count", "currency", "test_mode", "non_3d"]
    form = dict(zip(names, signed))
    form.update({
        "paytr_token": client._token(*signed), "store_card": "1", "sync_mode": "1", "debug_on": "1",
        "cc_owner": "AYSE YILMAZ", "card_number": "4355084355084358", "expiry_month": "12",
        "expiry_year": "30", "cvv": "000", "user_name": "Ayse Yilmaz", "user_address": "Istanbul",
        "user_phone": "05551112233", "user_basket": json.dumps([["Kupa", "10.00", 1]]),
        "merchant_ok_url": "https://shop.example/ok", "merchant_fail_url": "https://shop.example/fail",
    })
    async with ClientSession() as http:
        async with http.post(base + "/odeme", data=form) as resp:
            stored = json.loads(await resp.text())
    assert stored["status"] == "success", stored
    utoken = stored["utoken"]

    cards = await client.list_cards(utoken)
    assert len(cards) == 1 and cards[0]["last_4"] == "4358", cards
    ctoken = cards[0]["ctoken"]

    charge = await client.recurring_payment(
        utoken=utoken, ctoken=ctoken, merchant_oid="PYREC1", email="buyer@example.com",
        payment_amount="34.5", user_ip="85.34.78.112", user_name="Ayse Yilmaz",
        user_address="Istanbul", user_phone="05551112233", user_basket=[("Abonelik", "34.50", 1)],
        merchant_ok_url="https://shop.example/ok", merchant_fail_url="https://shop.example/fail",
    )
    assert charge["status"] == "success", charge

    await client.delete_card(utoken=utoken, ctoken=ctoken)
    assert await client.list_cards(utoken) == [], "card deleted"

    deadline = time.time() + 15
    while time.time() < deadline and {"PYSTORE1", "PYREC1"} - {cb.merchant_oid for cb in verified}:
        await asyncio.sleep(0.05)
    oids = {cb.merchant_oid for cb in verified}
    assert {"PYSTORE1", "PYREC1"} <= oids, f"verified notifications: {oids}"

    refunded = await client.refund(merchant_oid="PYREC1", return_amount="10.5", reference_no="PYREF1")
    assert refunded["status"] == "success" and refunded["return_amount"] == "10.50", refunded
    status = await client.status("PYREC1")
    assert status["payment_amount"] == "34.50", status
    assert [r["reference_no"] for r in status["returns"]] == ["PYREF1"], status
    try:
        await client.refund(merchant_oid="PYREC1", return_amount="24.01", reference_no="PYREF2")
        raise AssertionError("a refund above what is left was accepted")
    except PayTRError as e:
        assert "009" in str(e) or "009" in repr(getattr(e, "payload", "")), repr(e)
    print("interop with paytr-python: list, recurring, delete, refund, status inquiry and "
          "notification hashes all accepted")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
