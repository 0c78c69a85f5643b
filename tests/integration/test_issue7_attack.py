"""Attacks on topics, routes, approvals and schedules against the real server: each test
is a defect that was found and fixed (the engine thread stays responsive, effects are not
lost or doubled, nothing a caller sends becomes markup or a header)."""

import http.client
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
        # thread, seconds of no answers for a few thousand.
        n = 4000
        conn = http.client.HTTPConnection(self.server.url.split("//")[1], timeout=120)
        status, body = self.sns(conn, {"Action": "CreateTopic", "Name": "wide"})
        self.assertEqual(status, 200, body)
        arn = body.split("<TopicArn>")[1].split("<")[0]
        for i in range(n):
            status, body = self.sns(conn, {
                "Action": "Subscribe", "TopicArn": arn, "Protocol": "sqs",
                "Endpoint": "arn:aws:sqs:us-east-1:%s:gone%d" % (servertest.ACCOUNT, i)})
            self.assertEqual(status, 200, body)
        t0 = time.time()
        for k in range(4):
            status, body = self.sns(conn, {"Action": "Publish", "TopicArn": arn,
                                           "Message": "m%d" % k})
            self.assertEqual(status, 200, body)
        status, body = self.sns(conn, {"Action": "ListTopics"})
        self.assertEqual(status, 200, body)
        elapsed = time.time() - t0
        self.assertLess(elapsed, 3.0, "4 publishes to %d subscriptions took %.1f s" % (n, elapsed))
        conn.close()


if __name__ == "__main__":
    batontest.main()
