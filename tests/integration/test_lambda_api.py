#!/usr/bin/env python3
"""The Lambda API (2015-03-31) against `baton serve`, through boto3 and the aws CLI.

A deployment package made here with zipfile holds a Python handler, a Node.js handler and a
`provided` bootstrap (a Python script speaking the Runtime API); functions are created from
it, read back, listed page by page, awaited with SDK waiters, updated, invoked synchronously,
as events and as dry runs (with a log tail), made to fail (X-Amz-Function-Error), and refused
by name for every error Lambda names. Event source mappings go through create, get, list,
update and delete. Finally `aws lambda invoke` with each aws CLI present.
"""

import base64
import io
import json
import os
import shutil
import subprocess
import time
import unittest
import urllib.error
import urllib.request
import zipfile

import servertest

ROLE = servertest.ROLE
PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"

PY_HANDLER = '''
def handler(event, context):
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("boom")
    print("hello from python")
    return {"echo": event, "fn": context.function_name}
'''

NODE_HANDLER = '''
exports.handler = async (event) => ({node: event});
'''

BOOTSTRAP = '''#!/usr/bin/env python3
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read() or b"null")
    body = json.dumps({"provided": event}).encode()
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=body,
                                                  method="POST")).read()
'''

# A `provided` function that prints two lines per event and reports {"fail": true} as an error.
TALKER = '''#!/usr/bin/env python3
import json, os, sys, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read() or b"null")
    print("talk one", json.dumps(event), flush=True)
    print("talk two", flush=True)
    if isinstance(event, dict) and event.get("fail"):
        out, body = "/error", {"errorType": "Oops", "errorMessage": "asked to fail"}
    else:
        out, body = "/response", {"talked": event}
    urllib.request.urlopen(urllib.request.Request(api + rid + out, method="POST",
                                                  data=json.dumps(body).encode())).read()
'''


def bootstrap_package(script):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16
        z.writestr(info, script)
    return b.getvalue()


def package(py=PY_HANDLER):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", py)
        z.writestr("index.js", NODE_HANDLER)
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, BOOTSTRAP)
    return b.getvalue()


class LambdaApi(servertest.ServerTestCase):

    def setUp(self):
        super().setUp()
        try:
            urllib.request.urlopen(self.server.url + "/2015-03-31/functions", timeout=10)
        except urllib.error.HTTPError as e:
            if b"No API at this path" in e.read():
                self.skipTest("this server does not serve the Lambda API yet")
        self.lam = self.client("lambda")

    def create(self, name, runtime="python3.12", handler="index.handler", **kw):
        return self.lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE,
                                        Handler=handler, Code={"ZipFile": package()}, **kw)

    def error(self, call, **kw):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            call(**kw)
        return cm.exception.response

    def test_create_get_list_update_delete(self):
        zip_bytes = package()
        r = self.create("py", Timeout=10, MemorySize=256, Description="d",
                        Environment={"Variables": {"A": "1"}})
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(r["FunctionName"], "py")
        self.assertEqual(r["FunctionArn"], PREFIX + "py")
        self.assertEqual(r["Runtime"], "python3.12")
        self.assertEqual(r["Handler"], "index.handler")
        self.assertEqual(r["Timeout"], 10)
        self.assertEqual(r["MemorySize"], 256)
        self.assertEqual(r["Description"], "d")
        self.assertEqual(r["Environment"], {"Variables": {"A": "1"}})
        self.assertEqual(r["CodeSize"], len(zip_bytes))
        import hashlib
        self.assertEqual(r["CodeSha256"],
                         base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode())
        self.assertEqual(r["State"], "Active")
        self.assertEqual(r["LastUpdateStatus"], "Successful")
        self.assertEqual(r["Version"], "$LATEST")
        self.assertEqual(r["PackageType"], "Zip")
        # LoggingConfig came into the model in late 2023: older botocore drops it.
        if "LoggingConfig" in self.lam.meta.service_model.shape_for(
                "FunctionConfiguration").members:
            self.assertEqual(r["LoggingConfig"]["LogGroup"], "/aws/lambda/py")
        self.assertRegex(r["LastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
        self.lam.get_waiter("function_active_v2").wait(FunctionName="py",
                                                       WaiterConfig={"Delay": 1})
        g = self.lam.get_function(FunctionName="py")
        self.assertEqual(g["Configuration"]["FunctionName"], "py")
        self.assertEqual(g["Code"]["RepositoryType"], "S3")
        c = self.lam.get_function_configuration(FunctionName=PREFIX + "py")
        self.assertEqual(c["Timeout"], 10)

        u = self.lam.update_function_configuration(FunctionName="py", Timeout=20,
                                                   Environment={"Variables": {"B": "2"}})
        self.assertEqual(u["Timeout"], 20)
        self.assertEqual(u["Environment"], {"Variables": {"B": "2"}})
        self.lam.get_waiter("function_updated_v2").wait(FunctionName="py",
                                                        WaiterConfig={"Delay": 1})
        new_zip = package(PY_HANDLER.replace("hello from python", "hello again"))
        u = self.lam.update_function_code(FunctionName="py", ZipFile=new_zip)
        self.assertEqual(u["CodeSize"], len(new_zip))
        self.assertNotEqual(u["CodeSha256"], r["CodeSha256"])

        d = self.lam.delete_function(FunctionName="py")
        self.assertIn(d["ResponseMetadata"]["HTTPStatusCode"], (200, 204))
        e = self.error(self.lam.get_function, FunctionName="py")
        self.assertEqual(e["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_list_pages(self):
        for i in range(55):
            self.lam.create_function(FunctionName="f%02d" % i, Runtime="python3.12", Role=ROLE,
                                     Handler="index.handler", Code={"ZipFile": package()})
        first = self.lam.list_functions()
        self.assertEqual(len(first["Functions"]), 50)
        self.assertIn("NextMarker", first)
        second = self.lam.list_functions(Marker=first["NextMarker"])
        self.assertEqual([f["FunctionName"] for f in second["Functions"]],
                         ["f%02d" % i for i in range(50, 55)])
        self.assertNotIn("NextMarker", second)
        small = self.lam.list_functions(MaxItems=7)
        self.assertEqual(len(small["Functions"]), 7)
        big = self.lam.list_functions(MaxItems=100)  # 50 a page whatever MaxItems says
        self.assertEqual(len(big["Functions"]), 50)
        self.assertIn("NextMarker", big)
        names = [f["FunctionName"] for page in self.lam.get_paginator("list_functions").paginate()
                 for f in page["Functions"]]
        self.assertEqual(names, ["f%02d" % i for i in range(55)])

    def test_invoke(self):
        self.create("py")
        r = self.lam.invoke(FunctionName="py", Payload=b'{"a": 1}', LogType="Tail")
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertEqual(json.loads(r["Payload"].read()), {"echo": {"a": 1}, "fn": "py"})
        self.assertNotIn("FunctionError", r)
        self.assertIn("hello from python", base64.b64decode(r["LogResult"]).decode())

        r = self.lam.invoke(FunctionName="py", Payload=b'{"fail": true}')
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["Payload"].read())
        self.assertEqual(err["errorType"], "ValueError")
        self.assertEqual(err["errorMessage"], "boom")

        r = self.lam.invoke(FunctionName="py", InvocationType="Event", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 202)
        r = self.lam.invoke(FunctionName="py", InvocationType="DryRun")
        self.assertEqual(r["StatusCode"], 204)

        self.create("node", runtime="nodejs20.x")
        r = self.lam.invoke(FunctionName="node", Payload=b'[1,2]')
        self.assertEqual(json.loads(r["Payload"].read()), {"node": [1, 2]})
        self.create("prov", runtime="provided.al2023", handler="unused")
        r = self.lam.invoke(FunctionName="prov", Payload=b'"x"')
        self.assertEqual(json.loads(r["Payload"].read()), {"provided": "x"})

        with urllib.request.urlopen(self.server.url + "/baton/functions/py/logs?lines=50") as f:
            logs = f.read().decode()
        self.assertIn("hello from python", logs)
        self.assertIn("START RequestId:", logs)

    def test_errors(self):
        self.create("py")
        e = self.error(self.lam.invoke, FunctionName="nope", Payload=b"{}")
        self.assertEqual(e["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(e["Error"]["Message"], "Function not found: " + PREFIX + "nope:$LATEST")
        e = self.error(self.create, name="py")
        self.assertEqual(e["Error"]["Code"], "ResourceConflictException")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 409)
        e = self.error(self.create, name="old", runtime="nodejs12.x")
        self.assertEqual(e["Error"]["Code"], "InvalidParameterValueException")
        self.assertIn("nodejs12.x is no longer supported", e["Error"]["Message"])
        e = self.error(self.create, name="bad", runtime="cobol")
        self.assertEqual(e["Error"]["Code"], "InvalidParameterValueException")
        self.assertIn("Value cobol at 'runtime' failed to satisfy constraint",
                      e["Error"]["Message"])
        e = self.error(self.create, name="arch", Architectures=["mips"])
        self.assertEqual(e["Error"]["Code"], "ValidationException")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn("Value '[mips]' at 'architectures' failed to satisfy constraint",
                      e["Error"]["Message"])
        arm = self.create("arm", Architectures=["arm64"])
        self.assertEqual(arm["ResponseMetadata"]["HTTPStatusCode"], 201)
        e = self.error(self.lam.create_function, FunctionName="z", Runtime="python3.12",
                       Role=ROLE, Handler="index.handler", Code={"ZipFile": b"not a zip"})
        self.assertEqual(e["Error"]["Message"],
                         "Could not unzip uploaded file. Please check your file, then try to "
                         "upload again.")
        e = self.error(self.lam.invoke, FunctionName="py", Payload=b"x" * (6 * 1024 * 1024 + 1))
        self.assertEqual(e["Error"]["Code"], "RequestTooLargeException")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 413)
        e = self.error(self.lam.invoke, FunctionName="py", InvocationType="Event",
                       Payload=b"1" * (1024 * 1024 + 1))
        self.assertEqual(e["Error"]["Code"], "RequestTooLargeException")
        e = self.error(self.lam.invoke, FunctionName="py", Payload=b"{not json")
        self.assertEqual(e["Error"]["Code"], "InvalidRequestContentException")
        self.assertTrue(e["Error"]["Message"].startswith("Could not parse request body into json"))
        e = self.error(self.lam.get_function, FunctionName="py:1", Qualifier="$LATEST")
        self.assertEqual(e["Error"]["Code"], "InvalidParameterValueException")
        self.assertEqual(e["Error"]["Message"], "The derived qualifier from the function name "
                         "does not match the specified qualifier.")

    def test_event_source_mappings(self):
        self.create("py")
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        m = self.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="py",
                                                 BatchSize=5, Enabled=False)
        self.assertEqual(m["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(m["EventSourceArn"], arn)
        self.assertEqual(m["FunctionArn"], PREFIX + "py")
        self.assertEqual(m["BatchSize"], 5)
        uuid = m["UUID"]
        g = self.lam.get_event_source_mapping(UUID=uuid)
        self.assertEqual(g["UUID"], uuid)
        self.assertEqual(g["State"], "Disabled")
        ls = self.lam.list_event_source_mappings(FunctionName="py")
        self.assertEqual([x["UUID"] for x in ls["EventSourceMappings"]], [uuid])
        ls = self.lam.list_event_source_mappings(EventSourceArn=arn)
        self.assertEqual([x["UUID"] for x in ls["EventSourceMappings"]], [uuid])
        u = self.lam.update_event_source_mapping(UUID=uuid, BatchSize=3)
        self.assertEqual(u["BatchSize"], 3)
        self.lam.delete_event_source_mapping(UUID=uuid)
        e = self.error(self.lam.get_event_source_mapping, UUID=uuid)
        self.assertEqual(e["Error"]["Code"], "ResourceNotFoundException")
        e = self.error(self.lam.create_event_source_mapping, FunctionName="py",
                       EventSourceArn="arn:aws:sqs:us-east-1:123456789012:missing")
        self.assertIn(e["Error"]["Code"],
                      ("InvalidParameterValueException", "ResourceNotFoundException"))

    def test_tail_and_headers(self):
        self.lam.create_function(FunctionName="talk", Runtime="provided.al2023", Role=ROLE,
                                 Handler="unused", Code={"ZipFile": bootstrap_package(TALKER)})
        r = self.lam.invoke(FunctionName="talk", Payload=b'{"n": 2}', LogType="Tail")
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertEqual(json.loads(r["Payload"].read()), {"talked": {"n": 2}})
        # The invocation's own lines as printed, START first (no time stamps).
        lines = base64.b64decode(r["LogResult"]).decode().splitlines()
        self.assertEqual(len(lines), 5, lines)
        self.assertRegex(lines[0], r"^START RequestId: [0-9a-f-]{36} Version: \$LATEST$")
        rid = lines[0].split()[2]
        self.assertEqual(r["ResponseMetadata"]["RequestId"], rid)
        self.assertEqual(lines[1:4], ['talk one {"n": 2}', "talk two", "END RequestId: " + rid])
        self.assertRegex(lines[4], r"^REPORT RequestId: " + rid + r"\tDuration: [\d.]+ ms\t"
                         r"Billed Duration: \d+ ms\tMemory Size: 128 MB\t"
                         r"Max Memory Used: \d+ MB")
        r = self.lam.invoke(FunctionName="talk", Payload=b'{"fail": true}')
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertNotIn("LogResult", r)
        self.assertEqual(json.loads(r["Payload"].read())["errorType"], "Oops")
        # Integers past 64 bits are JSON too, and reach the function as sent.
        r = self.lam.invoke(FunctionName="talk", Payload=b'{"id": 18446744073709551616}')
        self.assertEqual(r["Payload"].read(), b'{"talked": {"id": 18446744073709551616}}')
        # Name forms: partial and full ARNs, with and without a qualifier.
        for form in ("123456789012:function:talk", PREFIX + "talk", PREFIX + "talk:$LATEST",
                     "talk:$LATEST"):
            r = self.lam.invoke(FunctionName=form, Payload=b"7")
            self.assertEqual(json.loads(r["Payload"].read()), {"talked": 7}, form)
        e = self.error(self.lam.invoke, FunctionName="talk:$LATEST", Qualifier="3",
                       Payload=b"{}")
        self.assertEqual(e["Error"]["Code"], "InvalidParameterValueException")
        self.assertEqual(e["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                         "InvalidParameterValueException")
        e = self.error(self.lam.invoke, FunctionName=PREFIX + "talk:7", Payload=b"{}")
        self.assertEqual(e["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(e["Error"]["Message"], "Function not found: " + PREFIX + "talk:7")
        r = self.lam.invoke(FunctionName="talk", InvocationType="Event", Payload=b"{}")
        self.assertEqual((r["StatusCode"], r["Payload"].read()), (202, b""))
        r = self.lam.invoke(FunctionName="talk", InvocationType="DryRun")
        self.assertEqual((r["StatusCode"], r["Payload"].read()), (204, b""))
        # 1 MB exactly is an event that fits (the Event limit; one byte more is refused).
        r = self.lam.invoke(FunctionName="talk", InvocationType="Event",
                            Payload=b'"' + b"a" * (1024 * 1024 - 2) + b'"')
        self.assertEqual(r["StatusCode"], 202)
        e = self.error(self.lam.delete_function, FunctionName="talk:1", Qualifier="2")
        self.assertEqual(e["Error"]["Code"], "InvalidParameterValueException")
        d = self.lam.delete_function(FunctionName=PREFIX + "talk")
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)

    def test_baton_invoke_and_logs(self):
        self.lam.create_function(FunctionName="talk", Runtime="provided.al2023", Role=ROLE,
                                 Handler="unused", Code={"ZipFile": bootstrap_package(TALKER)})
        ep = ["--endpoint", self.server.url]
        p = subprocess.run([servertest.batontest.BATON, "invoke", "talk", "--payload",
                            '{"n": 1}'] + ep, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"talked": {"n": 1}})
        p = subprocess.run([servertest.batontest.BATON, "logs", "talk", "--lines", "5"] + ep,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Each line carries the time it was written, as CloudWatch Logs shows it.
        stamped = p.stdout.splitlines()
        self.assertEqual(len(stamped), 5, p.stdout)
        for line in stamped:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")
        lines = [line.split(" ", 1)[1] for line in stamped]
        self.assertRegex(lines[0], r"^START RequestId: [0-9a-f-]{36} Version: \$LATEST$")
        self.assertEqual(lines[1], 'talk one {"n": 1}')
        self.assertEqual(lines[2], "talk two")
        rid = lines[0].split()[2]
        self.assertEqual(lines[3], "END RequestId: " + rid)
        self.assertTrue(lines[4].startswith("REPORT RequestId: " + rid + "\tDuration: "),
                        lines[4])
        self.assertIn("Max Memory Used:", lines[4])

        p = subprocess.run([servertest.batontest.BATON, "invoke", "talk", "--payload",
                            '{"fail": true}'] + ep, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 254, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"errorType": "Oops",
                                                "errorMessage": "asked to fail"})
        p = subprocess.run([servertest.batontest.BATON, "logs", "talk", "--lines", "2"] + ep,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(p.stdout.splitlines()), 2, p.stdout)
        self.assertIn(" REPORT RequestId: ", p.stdout.splitlines()[1])

        p = subprocess.run([servertest.batontest.BATON, "invoke", "absent"] + ep,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 254)
        self.assertIn("Function not found", p.stderr)
        p = subprocess.run([servertest.batontest.BATON, "logs", "absent"] + ep,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 254)

    def test_aws_cli_invoke(self):
        self.create("py")
        clis = [p for p in (shutil.which("aws"), "/usr/bin/aws") if p and os.path.exists(p)]
        if not clis:
            raise unittest.SkipTest("no aws CLI")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKID", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION="us-east-1")
        for aws in dict.fromkeys(clis):
            out = os.path.join(self.dir, "out.json")
            # v1 sends a blob parameter as the text given; v2 expects base64 unless told
            # otherwise, and v1 does not know the option that tells it.
            version = subprocess.run([aws, "--version"], capture_output=True, text=True,
                                     env=env, timeout=60)
            banner = version.stdout + version.stderr
            self.assertRegex(banner, r"aws-cli/[12]\.", aws)
            raw = [] if "aws-cli/1." in banner else ["--cli-binary-format", "raw-in-base64-out"]
            p = subprocess.run([aws, "--endpoint-url", self.server.url, "lambda", "invoke",
                                "--function-name", "py", "--payload", '{"k": "v"}'] + raw +
                               [out], capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(p.returncode, 0, (aws, p.stderr))
            self.assertEqual(json.loads(p.stdout)["StatusCode"], 200)
            with open(out) as f:
                self.assertEqual(json.load(f), {"echo": {"k": "v"}, "fn": "py"})


if __name__ == "__main__":
    servertest.main()
