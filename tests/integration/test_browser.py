"""An approval decided in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by python3-selenium) opens the outbox of the real `baton serve`,
follows the approval mail's link, reads the page, types a comment and clicks Approve or
Reject; the execution then ends as docs/approvals.md says.

Debian's python3-selenium is installed for /usr/bin/python3. When the interpreter that runs
this file cannot import selenium but /usr/bin/python3 can (a python3 of its own first on
PATH), the file runs itself again under /usr/bin/python3. Without selenium, chromium or
chromedriver the tests are skipped."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from datetime import datetime, timezone

import servertest

A, B = "alice@example.com", "bob@example.com"
WAIT = 30  # seconds, for every wait on the browser or the execution
DEBIAN_PYTHON = os.environ.get("BATON_DEBIAN_PYTHON", "/usr/bin/python3")
REEXEC = "BATON_BROWSER_REEXEC"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False


def reexec_if_needed():
    """Runs this file under DEBIAN_PYTHON when only that interpreter has selenium."""
    if HAVE_SELENIUM or os.environ.get(REEXEC) or not os.path.exists(DEBIAN_PYTHON):
        return
    if os.path.realpath(DEBIAN_PYTHON) == os.path.realpath(sys.executable):
        return
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import selenium, boto3"],
                           capture_output=True, timeout=30)
    if probe.returncode != 0:
        return
    os.environ[REEXEC] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


def which(*names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def machine(catch):
    ask = {"Type": "Task", "Resource": "arn:baton:states:::approval",
           "Parameters": {"Approvers": [A, B], "Required": 1 if not catch else 2,
                          "Subject": "Ship order 7?",
                          "Message": "Please check the order before it ships.",
                          "Data.$": "$.order"},
           "Next": "Ship"}
    states = {"Ask": ask, "Ship": {"Type": "Pass", "End": True}}
    if catch:
        ask["Catch"] = [{"ErrorEquals": ["Approval.Rejected"], "ResultPath": "$.error",
                         "Next": "Refused"}]
        states["Refused"] = {"Type": "Pass", "End": True}
    return json.dumps({"StartAt": "Ask", "States": states})


def procs_using(marker):
    """PIDs whose command line holds marker (the browser's own user-data-dir)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if marker.encode() in f.read():
                    out.append(int(d))
        except OSError:
            pass
    return out


class Browser(servertest.ServerTestCase):

    def setUp(self):
        if not HAVE_SELENIUM:
            raise unittest.SkipTest("python3-selenium is not installed for this Python")
        self.chromium = which("chromium", "chromium-browser")
        self.chromedriver = which("chromedriver")
        if not self.chromium or not self.chromedriver:
            raise unittest.SkipTest("chromium or chromedriver is not installed")
        servertest.boto3_or_skip()
        super().setUp()
        self.profile = tempfile.mkdtemp(prefix="baton-chromium-")
        self.addCleanup(shutil.rmtree, self.profile, True)
        opts = webdriver.ChromeOptions()
        opts.binary_location = self.chromium
        for arg in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-extensions", "--window-size=1200,900",
                    "--user-data-dir=" + self.profile):
            opts.add_argument(arg)
        if os.geteuid() == 0:
            opts.add_argument("--no-sandbox")
        # The pages must work as plain HTML: the form posts without any script.
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
        service = Service(executable_path=self.chromedriver,
                          log_path=os.path.join(self.dir, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.addCleanup(self.end_browser)
        self.driver.set_page_load_timeout(WAIT)
        self.driver.set_script_timeout(WAIT)

    def end_browser(self):
        """Quits the browser; then ends, by PID, any of its processes still running."""
        driver_proc = self.driver.service.process
        try:
            self.driver.quit()
            self.driver.command_executor.close()  # its keep-alive socket to chromedriver
        finally:
            if driver_proc is not None and driver_proc.poll() is None:
                driver_proc.kill()
                driver_proc.wait(10)
            deadline = time.time() + 10
            while procs_using(self.profile) and time.time() < deadline:
                time.sleep(0.1)
            for pid in procs_using(self.profile):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    # -- helpers -----------------------------------------------------------------------------

    def wait(self, cond, what):
        return WebDriverWait(self.driver, WAIT, poll_frequency=0.1).until(
            lambda d: cond(d), message="no " + what + " within %d s" % WAIT)

    def text(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def start(self, catch):
        sfn = self.client("stepfunctions")
        sm = sfn.create_state_machine(name="browser", definition=machine(catch),
                                      roleArn=servertest.ROLE)["stateMachineArn"]
        arn = sfn.start_execution(
            stateMachineArn=sm,
            input=json.dumps({"order": {"id": 7, "item": "<b>lamp</b> & shade"}}))
        return sfn, arn["executionArn"]

    def audit(self):
        with urllib.request.urlopen(self.server.url + "/baton/approvals", timeout=10) as r:
            return json.loads(r.read())

    def open_outbox_mail(self, to, n):
        """Opens /outbox, reloading until n mails are there; returns the mail to `to`."""
        def mails(d):
            d.get(self.server.url + "/outbox")
            found = d.find_elements(By.CSS_SELECTOR, "div.mail")
            return found if len(found) >= n else False
        found = self.wait(mails, "%d mails in the outbox" % n)
        self.assertEqual(self.driver.title, "Baton outbox")
        self.assertEqual(len(found), n)
        self.assertIn("%d mails, newest first." % n, self.text("body"))
        mine = [m for m in found
                if m.find_element(By.CSS_SELECTOR, ".meta").text.startswith("To: " + to + " ")]
        self.assertEqual(len(mine), 1, [m.text for m in found])
        mail = mine[0]
        self.assertEqual(mail.find_element(By.TAG_NAME, "h2").text, "Ship order 7?")
        self.assertIn("Please check the order before it ships.",
                      mail.find_element(By.TAG_NAME, "pre").text)
        links = mail.find_elements(By.CSS_SELECTOR, "pre a")
        self.assertEqual(len(links), 1, mail.text)
        href = links[0].get_attribute("href")
        self.assertRegex(href, "^" + re.escape(self.server.url) + "/approve/[A-Za-z0-9_-]{32}$")
        self.assertEqual(links[0].text, href)
        return links[0], href

    def check_page(self, arn, approver, decisions_before):
        """The approval page as a person sees it."""
        self.wait(lambda d: d.find_elements(By.ID, "approve"), "Approve button")
        self.assertEqual(self.driver.title, "Ship order 7?")
        self.assertEqual(self.text("h1"), "Ship order 7?")
        self.assertEqual(self.text("#message"), "Please check the order before it ships.")
        self.assertEqual(self.text("#execution"), arn)
        self.assertEqual(self.text("#state"), "Ask")
        self.assertEqual(self.text("#approver"), approver)
        self.assertEqual(json.loads(self.text("#data")), {"id": 7, "item": "<b>lamp</b> & shade"})
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "#data b"), [])
        self.assertRegex(self.text("#expires"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
        body = self.text("body")
        self.assertIn("Decisions so far\n" + decisions_before, body)
        label = self.driver.find_element(By.CSS_SELECTOR, "label[for=comment]")
        self.assertEqual(label.text, "Comment (optional)")
        for bid, caption in (("approve", "Approve"), ("reject", "Reject")):
            button = self.driver.find_element(By.ID, bid)
            self.assertEqual(button.text, caption)
            self.assertEqual(button.get_attribute("type"), "submit")
            self.assertTrue(button.is_displayed() and button.is_enabled())

    def assert_opened_changes_nothing(self, sfn, arn):
        self.driver.refresh()  # a second GET, as a mail scanner or a reload would do
        self.wait(lambda d: d.find_elements(By.ID, "approve"), "Approve button after reload")
        time.sleep(0.3)
        self.assertEqual(sfn.describe_execution(executionArn=arn)["status"], "RUNNING")
        self.assertEqual(self.audit()["Decisions"], [])

    def decide(self, button, comment):
        box = self.driver.find_element(By.ID, "comment")
        box.clear()
        box.send_keys(comment)
        self.assertEqual(box.get_attribute("value"), comment)
        self.driver.find_element(By.ID, button).click()
        self.wait(lambda d: d.find_elements(By.ID, "outcome"), "result page")

    def assert_instant(self, text, t0, t1):
        self.assertRegex(text, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        t = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        self.assertTrue(t0 - 2 <= t.timestamp() <= t1 + 2, (text, t0, t1))

    # -- tests -------------------------------------------------------------------------------

    def test_approve_in_browser(self):
        sfn, arn = self.start(catch=False)
        link, href = self.open_outbox_mail(A, 2)
        link.click()
        self.wait(lambda d: d.current_url == href, "approval page at " + href)
        self.check_page(arn, A, "None yet.")
        self.assert_opened_changes_nothing(sfn, arn)

        t0 = time.time()
        self.decide("approve", "Looks right <ok> & fine")
        t1 = time.time()
        self.assertEqual(self.driver.title, "You approved")
        self.assertEqual(self.text("#outcome"),
                         "Thank you. Enough approvals are in: the workflow goes on.")
        self.assertRegex(self.text("#decisions"),
                         r"^alice@example\.com: approved \S+ \u2014 Looks right <ok> & fine$")

        d = self.wait_status(sfn, arn, "SUCCEEDED", timeout=WAIT)
        out = json.loads(d["output"])
        self.assertEqual(len(out.get("approvers", [])), 1, out)
        decided_at = out["approvers"][0].get("decidedAt", "")
        self.assert_instant(decided_at, t0, t1)
        self.assertEqual(out, {"decision": "approved",
                               "approvers": [{"who": A, "decidedAt": decided_at,
                                              "comment": "Looks right <ok> & fine"}]})
        audit = self.audit()["Decisions"]
        self.assertEqual([(x["Approver"], x["Decision"], x["Comment"], x["Outcome"])
                          for x in audit], [(A, "approved", "Looks right <ok> & fine",
                                             "approved")])
        self.assertIn("HeadlessChrome", audit[0]["UserAgent"])

        # the back button and a reload: the used link says so and decides nothing more
        self.driver.get(href)
        self.wait(lambda d: d.find_elements(By.ID, "reason"), "refusal page")
        self.assertIn("already been used", self.text("#reason"))
        self.assertEqual(self.driver.find_elements(By.ID, "approve"), [])
        self.assertEqual(len(self.audit()["Decisions"]), 1)

    def test_reject_in_browser_goes_to_catch(self):
        sfn, arn = self.start(catch=True)
        link, href = self.open_outbox_mail(B, 2)
        self.driver.get(href)
        self.check_page(arn, B, "None yet.")
        self.assert_opened_changes_nothing(sfn, arn)

        t0 = time.time()
        self.decide("reject", "Not this week.")
        t1 = time.time()
        self.assertEqual(self.driver.title, "You rejected")
        self.assertEqual(self.text("#outcome"),
                         "Thank you. The request is rejected: the workflow has been told.")

        d = self.wait_status(sfn, arn, "SUCCEEDED", timeout=WAIT)
        out = json.loads(d["output"])
        self.assertEqual(sorted(out), ["error", "order"], out)
        self.assertEqual(out["order"], {"id": 7, "item": "<b>lamp</b> & shade"})
        self.assertEqual(out["error"]["Error"], "Approval.Rejected")
        cause = json.loads(out["error"]["Cause"])
        decided_at = cause["approvers"][0].get("decidedAt", "")
        self.assert_instant(decided_at, t0, t1)
        self.assertEqual(cause, {"decision": "rejected",
                                 "approvers": [{"who": B, "decision": "rejected",
                                                "decidedAt": decided_at,
                                                "comment": "Not this week."}]})
        events = sfn.get_execution_history(executionArn=arn)["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events
                   if e["type"].endswith("StateEntered")]
        self.assertEqual(entered, ["Ask", "Refused"])

        # the other approver's link now says the request is decided
        _, other = self.open_outbox_mail(A, 2)
        self.driver.get(other)
        self.wait(lambda d: d.find_elements(By.ID, "reason"), "refusal page")
        self.assertIn("already been decided", self.text("#reason"))


if __name__ == "__main__":
    reexec_if_needed()
    servertest.main()
