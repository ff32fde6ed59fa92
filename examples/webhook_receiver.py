"""A merchant's webhook receiver for paytr-checkout (Python 3, standard library only).

WEBHOOK_SECRET=whsec_... python3 webhook_receiver.py 8000
Verifies each delivery (Standard Webhooks: HMAC-SHA256 over "id.timestamp.body"), refuses old
or forged ones, and prints the events it accepts."""
import base64, hashlib, hmac, http.server, json, os, sys, time

KEY = base64.b64decode(os.environ["WEBHOOK_SECRET"].removeprefix("whsec_"))

class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        msg_id, ts = self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", "0")
        signed = f"{msg_id}.{ts}.".encode() + body
        expected = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
        given = self.headers.get("webhook-signature", "").split(" ")
        fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
        if not fresh or not any(hmac.compare_digest(expected, s) for s in given):
            self.send_response(401); self.end_headers(); return
        event = json.loads(body)  # deliveries may repeat: act once per webhook-id
        print(f"verified {event['type']} {event['data'].get('id', '')} {msg_id}", flush=True)
        self.send_response(204); self.end_headers()

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
