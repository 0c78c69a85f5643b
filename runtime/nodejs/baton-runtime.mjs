// baton-runtime.mjs — the Node.js runtime client of Baton's function workers: it loads the
// handler named by _HANDLER from LAMBDA_TASK_ROOT and serves invocations from the Lambda
// Runtime API at AWS_LAMBDA_RUNTIME_API, so that handler code written for AWS Lambda runs
// unchanged. Standard library only; Node.js 18 or later.
//
// Behaviour follows the stock client (aws-lambda-nodejs-runtime-interface-client) as the
// Lambda documentation and that client describe it:
// - handler "dir/mod.a.b": module "mod" under dir (split at the first dot of the last path
//   segment), property path a.b; tried as an extensionless file, .js (CommonJS unless the
//   nearest package.json says "type": "module"), .js as ESM, .mjs, .cjs, then
//   require.resolve. ".." anywhere is Runtime.MalformedHandlerName.
// - error bodies {errorType, errorMessage, trace}; a thrown non-Error gives errorType =
//   typeof the value.
// - async handlers: the promise's value is the result, posted as soon as it settles.
//   Callback handlers: callback(err, result); while context.callbackWaitsForEmptyEventLoop
//   is true (the default) the outcome is held until Node's event loop has nothing else to
//   do ('beforeExit' fires: no timers, sockets or other handles of the handler's remain;
//   the runtime's idle keep-alive socket is unreferenced and does not count), which is how
//   the stock client waits. With it false, the outcome goes at once and the handler's
//   pending work simply continues (Lambda would freeze it until the next invocation).
//   context.succeed/fail/done post at once. A handler that neither returns a promise nor
//   calls back yields null once the loop drains; a promise that never settles yields
//   Runtime.NodeJsExit once the loop drains.
// - console.log/info/debug/warn/error/trace write "<ISO time>\t<request id>\t<LEVEL>\t<msg>"
//   lines to stdout (newlines inside a message become "\r", so one call is one line), as
//   Lambda's text log format does; before the first invocation the request id is
//   "undefined", after one it stays that invocation's until the next starts.
// - an uncaught exception or unhandled rejection during an invocation is posted as its
//   error (Runtime.UnhandledPromiseRejection for rejections), then the process exits.

import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import util from 'node:util';

const require = createRequire(import.meta.url);

const api = process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001';
const colon = api.lastIndexOf(':');
const apiHost = colon > 0 ? api.slice(0, colon) : api;
const apiPort = colon > 0 ? Number(api.slice(colon + 1)) : 80;
const base = '/2018-06-01/runtime';

// ---------------------------------------------------------------------------------------------
// Logging

let logRequestId = 'undefined';
const stdout = process.stdout;

function writeLog(level, args) {
    const msg = util.format.apply(null, args);
    stdout.write(new Date().toISOString() + '\t' + logRequestId + '\t' + level + '\t' +
                 msg.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
    const levels = { log: 'INFO', info: 'INFO', debug: 'DEBUG', warn: 'WARN', error: 'ERROR',
                     trace: 'TRACE' };
    for (const name of Object.keys(levels)) {
        const level = levels[name];
        console[name] = function (...args) { writeLog(level, args); };
    }
    console.fatal = function (...args) { writeLog('FATAL', args); };
}

// ---------------------------------------------------------------------------------------------
// Errors

function runtimeError(type, message) {
    const e = new Error(message);
    e.name = type;
    return e;
}

function isError(e) {
    return util.types.isNativeError(e) ||
           (e !== null && typeof e === 'object' && typeof e.name === 'string' &&
            typeof e.message === 'string' && typeof e.stack === 'string');
}

// The body the stock client posts for an error.
function errorBody(e) {
    try {
        if (isError(e)) {
            return {
                errorType: String(e.name),
                errorMessage: String(e.message),
                trace: typeof e.stack === 'string' ? e.stack.split('\n') : [],
            };
        }
        return { errorType: typeof e, errorMessage: String(e), trace: [] };
    } catch {
        return { errorType: 'handled',
                 errorMessage: 'the error thrown could not be described (no usable message, name or stack)' };
    }
}

function safeStringify(v) {
    try {
        return JSON.stringify(v);
    } catch {
        return '{"errorType":"handled","errorMessage":"the error could not be serialised"}';
    }
}

// ---------------------------------------------------------------------------------------------
// Runtime API client

function fatal(what) {
    process.stderr.write('baton-runtime: ' + what + '\n');
    process.exit(1);
}

// One keep-alive HTTP/1.1 connection; requests may be pipelined (answers come in request
// order), which is how an outcome and the next /next leave in one write and their answers
// arrive with one wake-up. This is the hot path (two requests an invocation), so rather than node:http — whose per-request machinery (agent
// bookkeeping, request and response objects, header validation) costs about as much as the
// round trip itself — requests are written as one string and answers parsed in place: status
// line, headers (names lowercased), a Content-Length or chunked body. The socket is
// unreferenced while idle, so that it never keeps the event loop from draining (see
// 'beforeExit' below); the Runtime API holds a /next open for as long as it likes.
const hostHeader = 'Host: ' + api + '\r\n';
const NONE = 0, HEAD = 1, BODY = 2, CHUNKED = 3;

class RuntimeConnection {
    constructor() {
        this.sock = null;
        this.queue = [];      // requests in flight, oldest first: {what, done}
        this.buf = null;      // unparsed bytes of the oldest one's answer (and what follows)
        this.phase = NONE;
        this.status = 0;
        this.headers = null;
        this.bodyStart = 0;
        this.bodyLen = 0;
        this.chunks = null;
    }

    connect() {
        const sock = net.connect({ host: apiHost, port: apiPort, noDelay: true });
        sock.on('data', (chunk) => this.onData(chunk));
        sock.on('error', (e) => { if (this.queue.length) fatal(this.queue[0].what + ': ' + e.message); });
        sock.on('close', () => {
            if (this.sock === sock) this.sock = null;
            if (this.queue.length) fatal(this.queue[0].what + ': the Runtime API closed the connection');
        });
        this.sock = sock;
    }

    // Runs fn; the requests it makes leave in one write.
    together(fn) {
        if (this.sock === null) this.connect();
        this.sock.cork();
        try {
            fn();
        } finally {
            this.sock.uncork();
        }
    }

    // done(status, headers, body) once the whole answer is in.
    request(method, urlPath, body, extraHeaders, done) {
        if (this.sock === null) this.connect();
        this.queue.push({ what: method + ' ' + urlPath, done });
        if (this.queue.length === 1) {
            this.phase = HEAD;
            this.buf = null;
        }
        let head = method + ' ' + urlPath + ' HTTP/1.1\r\n' + hostHeader;
        if (body !== null) {
            head += 'Content-Type: application/json\r\nContent-Length: ' +
                    Buffer.byteLength(body) + '\r\n';
            if (extraHeaders) head += extraHeaders;
            head += '\r\n' + body;
        } else {
            head += '\r\n';
        }
        this.sock.ref();
        this.sock.write(head);
    }

    onData(chunk) {
        if (this.phase === NONE) return; // nothing asked: ignore stray bytes
        this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
        while (this.phase !== NONE && this.buf !== null) {
            if (this.phase === HEAD && !this.parseHead()) return;
            if (this.phase === BODY) {
                const end = this.bodyStart + this.bodyLen;
                if (this.buf.length < end) return;
                this.finish(this.buf.toString('utf8', this.bodyStart, end), end);
            } else if (this.phase === CHUNKED && !this.parseChunks()) {
                return;
            }
        }
    }

    parseHead() {
        const buf = this.buf;
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return false;
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        this.status = Number(lines[0].slice(9, 12));
        const headers = {};
        let length = -1, chunked = false;
        for (let i = 1; i < lines.length; i++) {
            const line = lines[i];
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            const name = line.slice(0, colon).toLowerCase();
            const value = line.slice(colon + 1).trim();
            headers[name] = value;
            if (name === 'content-length') length = Number(value);
            else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
        }
        this.headers = headers;
        this.bodyStart = end + 4;
        if (chunked) {
            this.phase = CHUNKED;
            this.chunks = [];
        } else if (length >= 0) {
            this.phase = BODY;
            this.bodyLen = length;
        } else if (this.status === 204 || this.status === 304 || this.status < 200) {
            this.phase = BODY;
            this.bodyLen = 0;
        } else {
            fatal(this.queue[0].what + ': an answer with neither Content-Length nor chunked encoding');
        }
        return true;
    }

    // True once the last chunk is in (and finish() called).
    parseChunks() {
        const buf = this.buf;
        for (;;) {
            const lineEnd = buf.indexOf('\r\n', this.bodyStart);
            if (lineEnd < 0) return false;
            const size = parseInt(buf.toString('latin1', this.bodyStart, lineEnd), 16);
            if (Number.isNaN(size)) fatal(this.queue[0].what + ': a malformed chunked body');
            if (size === 0) {
                // The last chunk: trailers (none expected), then an empty line.
                const end = buf.indexOf('\r\n\r\n', lineEnd);
                if (end < 0) return false;
                this.finish(Buffer.concat(this.chunks).toString('utf8'), end + 4);
                return true;
            }
            if (buf.length < lineEnd + 2 + size + 2) return false;
            this.chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
            this.bodyStart = lineEnd + 2 + size + 2;
        }
    }

    // The oldest request's answer ends at offset end of buf: what follows belongs to the next.
    finish(body, end) {
        const req = this.queue.shift();
        this.chunks = null;
        if (this.queue.length > 0) {
            this.phase = HEAD;
            this.buf = end < this.buf.length ? this.buf.subarray(end) : null;
        } else {
            this.phase = NONE;
            this.buf = null;
            this.sock.unref();
        }
        req.done(this.status, this.headers, body);
    }
}

const rapi = new RuntimeConnection();
const nextPath = base + '/invocation/next';

// POSTs body (a string); done() once the Runtime API accepted it. Anything but 2xx, or a
// broken connection, ends the process (the worker is then replaced).
function post(urlPath, body, extraHeaders, done) {
    rapi.request('POST', urlPath, body, extraHeaders, (status) => {
        if (status < 200 || status > 299) fatal('POST ' + urlPath + ' answered ' + status);
        done();
    });
}

let initFailed = false;

function postInitErrorAndExit(e) {
    if (initFailed) return;
    initFailed = true;
    const body = errorBody(e);
    writeLog('ERROR', ['Init Error', '\t' + safeStringify(body)]);
    post(base + '/init/error', safeStringify(body),
         'Lambda-Runtime-Function-Error-Type: ' + String(body.errorType).replace(/[\r\n]/g, ' ') + '\r\n',
         () => process.exit(1));
}

// ---------------------------------------------------------------------------------------------
// Loading the handler

function packageJsonIsModule(file) {
    let dir = path.dirname(file);
    for (;;) {
        const pj = path.join(dir, 'package.json');
        if (fs.existsSync(pj)) {
            try {
                return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
            } catch {
                return false;
            }
        }
        const up = path.dirname(dir);
        if (up === dir) return false;
        dir = up;
    }
}

function tryRequire(file) {
    return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
    return fs.existsSync(file) ? import(pathToFileURL(file).href) : undefined;
}

async function loadModule(appRoot, moduleRoot, moduleName) {
    const stem = path.resolve(appRoot, moduleRoot, moduleName);
    let m = tryRequire(stem);
    if (m) return m;
    const esm = packageJsonIsModule(stem);
    if (!esm && (m = tryRequire(stem + '.js'))) return m;
    if (esm && (m = await tryImport(stem + '.js'))) return m;
    if ((m = await tryImport(stem + '.mjs'))) return m;
    if ((m = tryRequire(stem + '.cjs'))) return m;
    return require(require.resolve(moduleName, { paths: [path.resolve(appRoot, moduleRoot), appRoot] }));
}

async function loadHandler(taskRoot, full) {
    if (full.includes('..'))
        throw runtimeError('Runtime.MalformedHandlerName',
                           `'${full}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
    const slash = full.lastIndexOf('/');
    const moduleRoot = full.slice(0, slash + 1);
    const rest = full.slice(slash + 1);
    const dot = rest.indexOf('.');
    if (dot <= 0 || dot === rest.length - 1)
        throw runtimeError('Runtime.MalformedHandlerName', 'Bad handler');
    const moduleName = rest.slice(0, dot);
    let mod;
    try {
        mod = await loadModule(taskRoot, moduleRoot, moduleName);
    } catch (e) {
        if (e instanceof SyntaxError)
            throw runtimeError('Runtime.UserCodeSyntaxError', String(e));
        if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND'))
            throw runtimeError('Runtime.ImportModuleError', String(e));
        throw e;
    }
    let fn = mod;
    for (const key of rest.slice(dot + 1).split('.'))
        fn = fn === null || fn === undefined ? undefined : fn[key];
    if (fn === undefined)
        throw runtimeError('Runtime.HandlerNotFound', `${full} is undefined or not exported`);
    if (typeof fn !== 'function')
        throw runtimeError('Runtime.HandlerNotFound', `${full} is not a function`);
    return fn;
}

// ---------------------------------------------------------------------------------------------
// Invocations

const env = process.env;
const functionName = env.AWS_LAMBDA_FUNCTION_NAME;
const functionVersion = env.AWS_LAMBDA_FUNCTION_VERSION;
const memoryLimitInMB = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
const logGroupName = env.AWS_LAMBDA_LOG_GROUP_NAME;
const logStreamName = env.AWS_LAMBDA_LOG_STREAM_NAME;

let handler = null;
let current = null; // the invocation whose outcome is not posted yet

// Outcome states of an invocation.
const RUNNING = 0; // handler running or its promise pending
const HELD = 1;    // callback called, waiting for the event loop to drain
const POSTING = 2; // outcome on its way
const DONE = 3;

class Invocation {
    constructor(id) {
        this.id = id;
        this.state = RUNNING;
        this.isPromise = false;
        this.heldError = null;
        this.heldResult = undefined;
        this.context = null;
    }

    // The callback handed to the handler.
    callback(err, result) {
        if (this.state !== RUNNING) return;
        if (this.context.callbackWaitsForEmptyEventLoop) {
            this.state = HELD;
            this.heldError = err;
            this.heldResult = result;
        } else {
            this.finish(err, result);
        }
    }

    finish(err, result) {
        if (this.state >= POSTING) return;
        this.state = POSTING;
        if (err !== null && err !== undefined) {
            this.postError(err);
            return;
        }
        let body;
        try {
            body = JSON.stringify(result === undefined ? null : result);
        } catch (e) {
            this.postError(e);
            return;
        }
        const outcome = body === undefined ? 'null' : body;
        rapi.together(() => {
            post(base + '/invocation/' + this.id + '/response', outcome, null, () => this.done());
            next();
        });
    }

    postError(err, then) {
        this.state = POSTING;
        const body = safeStringify(errorBody(err));
        writeLog('ERROR', ['Invoke Error', '\t' + body]);
        if (then) { // the process ends after it: no /next behind it
            post(base + '/invocation/' + this.id + '/error', body, null, then);
            return;
        }
        rapi.together(() => {
            post(base + '/invocation/' + this.id + '/error', body, null, () => this.done());
            next();
        });
    }

    // The outcome was accepted; the /next pipelined behind it is already on its way.
    done() {
        this.state = DONE;
        if (current === this) current = null;
    }

    // The event loop drained while this invocation was open.
    drained() {
        if (this.state === HELD) {
            this.finish(this.heldError, this.heldResult);
        } else if (this.state === RUNNING) {
            if (this.isPromise)
                this.postError(runtimeError('Runtime.NodeJsExit',
                                            'The event loop drained before the handler\'s promise settled'));
            else
                this.finish(null, null);
        }
    }
}

function makeContext(inv, headers) {
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    const cc = headers['lambda-runtime-client-context'];
    const ci = headers['lambda-runtime-cognito-identity'];
    return {
        callbackWaitsForEmptyEventLoop: true,
        functionName,
        functionVersion,
        memoryLimitInMB,
        logGroupName,
        logStreamName,
        invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
        awsRequestId: inv.id,
        clientContext: cc ? JSON.parse(cc) : undefined,
        identity: ci ? JSON.parse(ci) : undefined,
        getRemainingTimeInMillis: () => deadline - Date.now(),
        succeed: (result) => inv.finish(null, result),
        fail: (err) => inv.finish(err === undefined || err === null ? 'handled' : err, undefined),
        done: (err, result) => inv.finish(err, result),
    };
}

function invoke(headers, body) {
    const id = headers['lambda-runtime-aws-request-id'];
    if (!id) fatal('an event without Lambda-Runtime-Aws-Request-Id');
    const trace = headers['lambda-runtime-trace-id'];
    if (trace) env._X_AMZN_TRACE_ID = trace;
    else delete env._X_AMZN_TRACE_ID;
    logRequestId = id;
    const inv = new Invocation(id);
    current = inv;
    let event, context;
    try {
        event = JSON.parse(body);
        context = makeContext(inv, headers);
    } catch (e) {
        inv.postError(e);
        return;
    }
    inv.context = context;
    let result;
    try {
        result = handler(event, context, (err, res) => inv.callback(err, res));
    } catch (e) {
        inv.finish(e, undefined);
        return;
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        inv.isPromise = true;
        result.then((v) => inv.finish(null, v),
                    (e) => inv.finish(e === undefined || e === null ? runtimeError('Error', String(e)) : e, undefined));
    }
    // Otherwise the outcome comes from the callback, or null once the loop drains.
}

function onNext(status, headers, body) {
    if (status !== 200) fatal('GET ' + nextPath + ' answered ' + status);
    invoke(headers, body);
}

function next() {
    rapi.request('GET', nextPath, null, null, onNext);
}

// An uncaught exception or unhandled rejection fails the open invocation (or the init),
// then ends the process, as in Lambda.
function crash(e, code) {
    writeLog('ERROR', [code === 128 ? 'Unhandled Promise Rejection' : 'Uncaught Exception',
                       '\t' + safeStringify(errorBody(e))]);
    if (handler === null) {
        postInitErrorAndExit(e);
    } else if (current !== null && current.state < POSTING) {
        current.postError(e, () => process.exit(code));
    } else {
        process.exit(code);
    }
}

process.on('uncaughtException', (e) => crash(e, 129));
process.on('unhandledRejection', (reason) => {
    const e = new Error(String(reason));
    e.name = 'Runtime.UnhandledPromiseRejection';
    crash(e, 128);
});
process.on('beforeExit', () => {
    if (current !== null) current.drained();
});

// ---------------------------------------------------------------------------------------------
// Start

patchConsole();
try {
    handler = await loadHandler(env.LAMBDA_TASK_ROOT || process.cwd(), env._HANDLER || '');
} catch (e) {
    handler = null;
    postInitErrorAndExit(e);
}
if (handler !== null) next();
