"""baton_runtime.py - the Python runtime client of Baton's function workers: it imports the
handler named by _HANDLER from LAMBDA_TASK_ROOT and serves invocations from the Lambda
Runtime API at AWS_LAMBDA_RUNTIME_API, so that handler code written for AWS Lambda runs
unchanged. Standard library only; Python 3.9 or later.

Behaviour follows the stock client (aws-lambda-python-runtime-interface-client) as the
Lambda documentation and that client describe it:
- handler "dir/pkg.mod.fn": split at the last dot, slashes of the module part become dots,
  imported with importlib with the task root first on sys.path; init failures are
  Runtime.MalformedHandlerName, Runtime.BuiltInModuleConflict, Runtime.ImportModuleError,
  Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound, or the exception's class name when
  the module raised while loading. They go to /runtime/init/error, then the process exits.
  (The stock client turns a missing attribute into an error of every invocation instead;
  here it is an init error, which the caller sees the same way on its first invoke.) A
  module part that is empty or starts with a dot (a relative import) is malformed.
- error bodies {"errorMessage", "errorType", "requestId", "stackTrace"} in that order, the
  stack as traceback.format_list gives it, without this file's frames.
- the logging module's root logger writes "[LEVEL]\t<UTC time>Z\t<request id>\t<message>"
  lines to stdout (level from AWS_LAMBDA_LOG_LEVEL, else logging's default WARNING); print
  writes to stdout as it is. stdout is line-buffered so lines leave at once.
"""

import http.client
import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback

RUNTIME_FILE = os.path.abspath(__file__)
BASE = "/2018-06-01/runtime"


class FaultError(Exception):
    """An init or runtime failure with a Lambda error type."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


# ---------------------------------------------------------------------------------------------
# Runtime API client


class _Connection(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class RuntimeClient:
    """One persistent HTTP/1.1 connection to the Runtime API. Any failure or non-2xx answer
    ends the process, as the stock clients do."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.conn = _Connection(host or address, int(port) if port else 80)

    def _fatal(self, what):
        sys.stderr.write("baton_runtime: %s\n" % what)
        sys.stderr.flush()
        os._exit(1)

    def next(self):
        try:
            self.conn.request("GET", BASE + "/invocation/next")
            resp = self.conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self._fatal("GET /invocation/next: %s" % e)
        if resp.status != 200:
            self._fatal("GET /invocation/next answered %d" % resp.status)
        return resp, body

    def post(self, path, body, headers=None):
        h = {"Content-Type": "application/json"}
        if headers:
            h.update(headers)
        try:
            self.conn.request("POST", path, body, h)
            resp = self.conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException) as e:
            self._fatal("POST %s: %s" % (path, e))
        if not 200 <= resp.status <= 299:
            self._fatal("POST %s answered %d" % (path, resp.status))


# ---------------------------------------------------------------------------------------------
# Errors


def make_error(message, error_type, stack_trace, request_id):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace is not None else [],
    }


def user_frames(tb):
    """The traceback's frames from the first one outside this file."""
    frames = traceback.extract_tb(tb)
    for i, frame in enumerate(frames):
        if os.path.abspath(frame.filename) != RUNTIME_FILE:
            return traceback.format_list(frames[i:])
    return []


def fault_result(exc, request_id):
    if isinstance(exc, FaultError):
        return make_error(exc.message, exc.error_type, exc.trace, request_id)
    return make_error(str(exc), type(exc).__name__, user_frames(exc.__traceback__), request_id)


def log_error(result):
    lines = ["[ERROR] %s: %s" % (result["errorType"], result["errorMessage"])]
    if result["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(s.rstrip("\n") for s in result["stackTrace"])
    sys.stdout.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# Logging


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = _RequestIdFilter.request_id
        return True


def setup_logging():
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass
    handler = logging.StreamHandler(sys.stdout)
    handler.terminator = "\n"
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in ("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"):
        root.setLevel({"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level))


# ---------------------------------------------------------------------------------------------
# The context object


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def _obj_from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field) if isinstance(d, dict) else None)
    return obj


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = deadline_ms
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        self.identity = _obj_from_dict(CognitoIdentity, {})
        if isinstance(identity, dict):
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

    def get_remaining_time_in_millis(self):
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return ("LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
                "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
                "invoked_function_arn=%s])" % (
                    self.aws_request_id, self.log_group_name, self.log_stream_name,
                    self.function_name, self.memory_limit_in_mb, self.function_version,
                    self.invoked_function_arn))


# ---------------------------------------------------------------------------------------------
# Loading the handler


def load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName",
                         "Bad handler '%s': %s" % (handler, e)) from None
    modname = modname.replace("/", ".")
    if not modname or not fname or modname.startswith("."):
        raise FaultError("Runtime.MalformedHandlerName", "Bad handler '%s'" % handler)
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultError("Runtime.BuiltInModuleConflict",
                         "Cannot use built-in module %s as a handler module" % modname)
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        raise FaultError("Runtime.ImportModuleError",
                         "Unable to import module '%s': %s" % (modname, e)) from None
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, (e.text or "").strip())]
        raise FaultError("Runtime.UserCodeSyntaxError",
                         "Syntax error in module '%s': %s" % (modname, e), trace) from None
    try:
        fn = getattr(module, fname)
    except AttributeError:
        raise FaultError("Runtime.HandlerNotFound",
                         "Handler '%s' missing on module '%s'" % (fname, modname)) from None
    if not callable(fn):
        raise FaultError("Runtime.HandlerNotFound",
                         "Handler '%s' on module '%s' is not callable" % (fname, modname))
    return fn


# ---------------------------------------------------------------------------------------------
# The loop


def _json_header(value):
    return json.loads(value) if value else None


def handle(client, fn, resp, body):
    request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id")
    if not request_id:
        client._fatal("an event without Lambda-Runtime-Aws-Request-Id")
    _RequestIdFilter.request_id = request_id
    trace = resp.getheader("Lambda-Runtime-Trace-Id")
    if trace:
        os.environ["_X_AMZN_TRACE_ID"] = trace
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    path = BASE + "/invocation/" + request_id
    try:
        try:
            deadline = int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0)
            ctx = LambdaContext(request_id, deadline,
                                resp.getheader("Lambda-Runtime-Invoked-Function-Arn"),
                                _json_header(resp.getheader("Lambda-Runtime-Client-Context")),
                                _json_header(resp.getheader("Lambda-Runtime-Cognito-Identity")))
            ctype = resp.getheader("Content-Type") or "application/json"
            event = json.loads(body) if ctype.startswith("application/json") else body
        except ValueError as e:
            raise FaultError("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        result = fn(event, ctx)
        try:
            out = json.dumps(result)
        except (TypeError, ValueError) as e:
            raise FaultError("Runtime.MarshalError", "Unable to marshal response: %s" % e)
    except Exception as e:
        error = fault_result(e, request_id)
        log_error(error)
        client.post(path + "/error", json.dumps(error).encode())
        return
    client.post(path + "/response", out.encode())


def main():
    client = RuntimeClient(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))
    # The script's own folder is not the handler's: only the task root is searched.
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(RUNTIME_FILE):
        del sys.path[0]
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    setup_logging()
    try:
        fn = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        error = fault_result(e, None)
        log_error(error)
        client.post(BASE + "/init/error", json.dumps(error).encode(),
                    {"Lambda-Runtime-Function-Error-Type": error["errorType"]})
        sys.stdout.flush()
        os._exit(1)
    while True:
        resp, body = client.next()
        handle(client, fn, resp, body)


if __name__ == "__main__":
    main()
