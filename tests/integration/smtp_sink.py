"""An SMTP server on 127.0.0.1 for test_smtp.py, run with Debian's /usr/bin/python3 (which
has python3-aiosmtpd): every message it accepts is appended to OUT as one JSON line
{from, to, data, login, tls}. With --user/--password it requires AUTH (over the plain
connection); with --refuse N it answers the first N messages 451 (a temporary failure); with
--tls-cert/--tls-key it offers STARTTLS and requires it before MAIL ("tls" then names the
protocol version the session used, else it is null).
Prints "ready PORT" once it listens; stops on SIGTERM."""

import argparse
import json
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--out", required=True)
p.add_argument("--user")
p.add_argument("--password")
p.add_argument("--refuse", type=int, default=0)
p.add_argument("--tls-cert")
p.add_argument("--tls-key")
args = p.parse_args()
refused = [0]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        if refused[0] < args.refuse:
            refused[0] += 1
            return "451 4.3.0 Try again later"
        login = session.auth_data
        login = login.decode() if isinstance(login, bytes) else login
        tls = None
        if session.ssl is not None:
            obj = session.ssl.get("ssl_object")
            tls = obj.version() if obj else session.ssl.get("cipher", ["tls"])[1]
        with open(args.out, "a") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                                "data": envelope.content.decode("utf-8", "replace"),
                                "login": login, "tls": tls}) + "\n")
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login.decode() == args.user and
          auth_data.password.decode() == args.password)
    return AuthResult(success=ok, auth_data=auth_data.login)


kw = {}
if args.user:
    kw = dict(authenticator=authenticate, auth_required=True, auth_require_tls=False)
if args.tls_cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    kw.update(tls_context=ctx, require_starttls=True)
c = Controller(Handler(), hostname="127.0.0.1", port=args.port, **kw)
c.start()
print("ready %d" % args.port, flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
done.wait()
c.stop()
sys.exit(0)
