"""Attacks on topics, routes, approvals and schedules against the real server: each test
is a defect that was found and fixed (the engine thread stays responsive, effects are not
lost or doubled, nothing a caller sends becomes markup or a header)."""

import http.client
import http.server
import threading
import time
import urllib.parse

import batontest
import servertest

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDBATONTEST/20200101/us-east-1/sns/aws4_request, "
        "SignedHeaders=host, Signature=x")


class Attack(servertest.ServerTestCase):

    def sns(self, conn, params):
        conn.request("POST", "/", urllib.parse.urlencode(params),
                     {"Content-Type": "application/x-www-form-urlencoded",
                      "Authorization": AUTH})
        r = conn.getresponse()
        return r.status, r.read().decode()

    def test_publish_to_thousands_of_subscriptions_keeps_the_engine_responsive(self):
        # Each delivery's release after commit scanned every delivery in memory (and armed
        # the timer by another scan): a Publish to n subscriptions cost n^2 on the engine
        # thread, seconds of no answers for a few thousand. Measured as a ratio, so that a
        # loaded machine or a sanitizer build slows both sides alike: 4 publishes to 1,000
        # subscriptions, then to 4,000: linear work takes about 4 times as long, quadratic
        # 16 times.
        conn = http.client.HTTPConnection(self.server.url.split("//")[1], timeout=120)
        status, body = self.sns(conn, {"Action": "CreateTopic", "Name": "wide"})
        self.assertEqual(status, 200, body)
        arn = body.split("<TopicArn>")[1].split("<")[0]
        subscribed = 0

        def publishes(n):
            nonlocal subscribed
            for i in range(subscribed, n):
                status, body = self.sns(conn, {
                    "Action": "Subscribe", "TopicArn": arn, "Protocol": "sqs",
                    "Endpoint": "arn:aws:sqs:us-east-1:%s:gone%d" % (servertest.ACCOUNT, i)})
                self.assertEqual(status, 200, body)
            subscribed = n
            time.sleep(0.5)  # the previous round's deliveries settle
            t0 = time.time()
            for k in range(4):
                status, body = self.sns(conn, {"Action": "Publish", "TopicArn": arn,
                                               "Message": "m%d" % k})
                self.assertEqual(status, 200, body)
            status, body = self.sns(conn, {"Action": "ListTopics"})
            self.assertEqual(status, 200, body)
            return time.time() - t0

        small, large = publishes(1000), publishes(4000)
        print("4 publishes: %.2f s to 1,000 subscriptions, %.2f s to 4,000" % (small, large))
        self.assertLess(large, 8 * small + 0.5,
                        "4 publishes: %.2f s to 1,000 subscriptions but %.2f s to 4,000"
                        % (small, large))
        conn.close()

    def test_a_hanging_endpoint_holds_a_bounded_number_of_transfers(self):
        # Every due http delivery was started at once: a hanging endpoint with thousands of
        # subscriptions held as many sockets open (until curl's 15 s timeout) and so on.
        lock = threading.Lock()
        state = {"open": 0, "peak": 0, "done": 0}
        release = threading.Event()

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    state["open"] += 1
                    state["peak"] = max(state["peak"], state["open"])
                release.wait(20)
                with lock:
                    state["open"] -= 1
                    state["done"] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        class S(http.server.ThreadingHTTPServer):
            request_queue_size = 512
            daemon_threads = True

        httpd = S(("127.0.0.1", 0), H)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            n = 150
            conn = http.client.HTTPConnection(self.server.url.split("//")[1], timeout=30)
            status, body = self.sns(conn, {"Action": "CreateTopic", "Name": "slow"})
            arn = body.split("<TopicArn>")[1].split("<")[0]
            for i in range(n):
                status, body = self.sns(conn, {
                    "Action": "Subscribe", "TopicArn": arn, "Protocol": "http",
                    "Endpoint": "http://127.0.0.1:%d/hook/%d" % (httpd.server_address[1], i)})
                self.assertEqual(status, 200, body)
            time.sleep(2)  # the confirmations go out; they hang
            with lock:
                peak = state["peak"]
            self.assertGreater(peak, 0)
            self.assertLessEqual(peak, 64, "%d transfers in flight at once" % peak)
            # The engine still answers while its transfers hang.
            t0 = time.time()
            status, body = self.sns(conn, {"Action": "ListTopics"})
            self.assertEqual(status, 200, body)
            self.assertLess(time.time() - t0, 1.0)
            release.set()
            deadline = time.time() + 20
            while time.time() < deadline:
                with lock:
                    if state["done"] >= n:
                        break
                time.sleep(0.05)
            with lock:
                self.assertGreaterEqual(state["done"], n)  # none lost for waiting
            conn.close()
        finally:
            release.set()
            httpd.shutdown()
            httpd.server_close()


if __name__ == "__main__":
    batontest.main()
