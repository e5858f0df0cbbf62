#!/usr/bin/env python3
"""Readiness probes and small admin calls for infra/up.sh, standard library only.

  probe.py cql   HOST PORT            CQL v4 STARTUP + `SELECT release_version FROM system.local`
  probe.py kafka HOST PORT            ApiVersions + Metadata: the broker is registered and unfenced
  probe.py kafka-coordinators HOST PORT [SECONDS]
                                      FindCoordinator for a group and a transactional id, then
                                      InitProducerId, until all answer: creates and loads
                                      __consumer_offsets and __transaction_state, so the first
                                      consumer group, idempotent producer or transaction of a
                                      test does not wait for them
  probe.py http  URL                  GET, 2xx expected
  probe.py s3-bucket ENDPOINT ACCESS SECRET BUCKET
                                      HEAD the bucket, create it (SigV4-signed PUT) when missing

Exit 0 and print one short line on success; exit 1 with the reason on stderr otherwise.
Every call has a short socket timeout so a wedged server never hangs the caller.
"""
import datetime
import hashlib
import hmac
import socket
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 5.0


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by server")
        buf += chunk
    return buf


# ---------------------------------------------------------------- CQL (native protocol v4)

def cql_frame(stream, opcode, body):
    return struct.pack(">BBhBi", 0x04, 0, stream, opcode, len(body)) + body


def cql_read(sock):
    version, flags, stream, opcode, length = struct.unpack(">BBhBi", recv_exact(sock, 9))
    return opcode, recv_exact(sock, length)


def cql_string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def cql_error(body):
    code = struct.unpack(">i", body[:4])[0]
    n = struct.unpack(">H", body[4:6])[0]
    return "CQL error 0x%04x: %s" % (code, body[6:6 + n].decode(errors="replace"))


def probe_cql(host, port):
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        s.sendall(cql_frame(0, 0x05, b""))  # OPTIONS
        op, body = cql_read(s)
        if op != 0x06:
            fail("expected SUPPORTED, got opcode 0x%02x" % op)
        s.sendall(cql_frame(1, 0x01, struct.pack(">H", 1) + cql_string("CQL_VERSION") + cql_string("3.0.0")))
        op, body = cql_read(s)
        if op == 0x00:
            fail(cql_error(body))
        if op != 0x02:
            fail("expected READY, got opcode 0x%02x (authentication enabled?)" % op)
        q = "SELECT release_version FROM system.local".encode()
        s.sendall(cql_frame(2, 0x07, struct.pack(">i", len(q)) + q + struct.pack(">HB", 0x0001, 0)))
        op, body = cql_read(s)
        if op == 0x00:
            fail(cql_error(body))
        if op != 0x08:
            fail("expected RESULT, got opcode 0x%02x" % op)
        kind = struct.unpack(">i", body[:4])[0]
        if kind != 2:
            fail("expected Rows, got result kind %d" % kind)
        # Rows metadata: flags, column count, [global table spec], column specs; then rows.
        pos = 4
        flags, ncols = struct.unpack(">ii", body[pos:pos + 8])
        pos += 8
        if flags & 0x0002:  # has_more_pages: paging state
            n = struct.unpack(">i", body[pos:pos + 4])[0]
            pos += 4 + max(n, 0)
        if flags & 0x0004:  # no_metadata
            fail("unexpected no_metadata rows")

        def skip_string(p):
            return p + 2 + struct.unpack(">H", body[p:p + 2])[0]

        if flags & 0x0001:  # global table spec
            pos = skip_string(skip_string(pos))
        for _ in range(ncols):
            if not flags & 0x0001:
                pos = skip_string(skip_string(pos))
            pos = skip_string(pos)  # column name
            pos += 2  # type id (varchar: no extra bytes)
        nrows = struct.unpack(">i", body[pos:pos + 4])[0]
        pos += 4
        if nrows < 1:
            fail("system.local returned no row")
        n = struct.unpack(">i", body[pos:pos + 4])[0]
        version = body[pos + 4:pos + 4 + n].decode(errors="replace") if n >= 0 else "?"
        print("cassandra %s answers CQL" % version)


# ---------------------------------------------------------------- Kafka

def kafka_request(sock, api_key, api_version, corr, body):
    client = b"c4a-infra-probe"
    header = struct.pack(">hhih", api_key, api_version, corr, len(client)) + client
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    resp = recv_exact(sock, size)
    if struct.unpack(">i", resp[:4])[0] != corr:
        fail("kafka: correlation id mismatch")
    return resp[4:]


def probe_kafka(host, port):
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        # ApiVersions v0 (supported by every broker version)
        r = kafka_request(s, 18, 0, 1, b"")
        err, n = struct.unpack(">hi", r[:6])
        if err != 0:
            fail("kafka: ApiVersions error %d" % err)
        versions = {}
        for i in range(n):
            k, lo, hi = struct.unpack(">hhh", r[6 + 6 * i:12 + 6 * i])
            versions[k] = (lo, hi)
        lo, hi = versions.get(3, (99, -1))
        if not lo <= 4 <= hi:
            fail("kafka: broker does not offer Metadata v4 (offers %s..%s)" % (lo, hi))
        # Metadata v4: topics = null (all), allow_auto_topic_creation = false
        r = kafka_request(s, 3, 4, 2, struct.pack(">ib", -1, 0))
        pos = 4  # throttle_time_ms
        nbrokers = struct.unpack(">i", r[pos:pos + 4])[0]
        pos += 4
        brokers = []
        for _ in range(nbrokers):
            node = struct.unpack(">i", r[pos:pos + 4])[0]
            pos += 4
            hl = struct.unpack(">h", r[pos:pos + 2])[0]
            h = r[pos + 2:pos + 2 + hl].decode()
            pos += 2 + hl
            p = struct.unpack(">i", r[pos:pos + 4])[0]
            pos += 4
            rl = struct.unpack(">h", r[pos:pos + 2])[0]
            pos += 2 + max(rl, 0)
            brokers.append("%d@%s:%d" % (node, h, p))
        cl = struct.unpack(">h", r[pos:pos + 2])[0]
        cluster = r[pos + 2:pos + 2 + cl].decode() if cl >= 0 else None
        pos += 2 + max(cl, 0)
        controller = struct.unpack(">i", r[pos:pos + 4])[0]
        pos += 4
        ntopics = struct.unpack(">i", r[pos:pos + 4])[0]
        if not brokers:
            fail("kafka: metadata lists no broker yet (broker still fenced)")
        if controller < 0:
            fail("kafka: no active controller yet")
        print("kafka cluster %s brokers %s controller %d topics %d" % (cluster, ",".join(brokers), controller, ntopics))


def kafka_coordinators(host, port, seconds="60"):
    import time
    deadline = time.time() + float(seconds)
    pending = {0: "c4a-infra-warmup", 1: "c4a-infra-warmup"}  # key_type 0 = group, 1 = transaction
    last = ""
    corr = 10
    # then InitProducerId (v1) without and with a transactional id: producer ids are allocated
    # and the transaction state is loaded
    producers = [None, "c4a-infra-warmup"]
    while pending or producers:
        try:
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
                s.settimeout(TIMEOUT)
                for key_type, key in list(pending.items()):
                    corr += 1
                    k = key.encode()
                    # FindCoordinator v1: key STRING, key_type INT8
                    r = kafka_request(s, 10, 1, corr, struct.pack(">h", len(k)) + k + struct.pack(">b", key_type))
                    err = struct.unpack(">h", r[4:6])[0]
                    if err == 0:
                        del pending[key_type]
                    else:
                        last = "FindCoordinator(%s) error %d" % (("group", "transaction")[key_type], err)
                for tid in list(producers) if not pending else []:
                    corr += 1
                    t = struct.pack(">h", -1) if tid is None else struct.pack(">h", len(tid)) + tid.encode()
                    r = kafka_request(s, 22, 1, corr, t + struct.pack(">i", 60000))
                    err = struct.unpack(">h", r[4:6])[0]
                    if err == 0:
                        producers.remove(tid)
                    else:
                        last = "InitProducerId(%s) error %d" % (tid, err)
        except (OSError, ConnectionError) as e:
            last = str(e)
        if pending or producers:
            if time.time() > deadline:
                fail("kafka coordinators not ready: %s" % last)
            time.sleep(0.5)
    print("kafka group/transaction coordinators and producer ids ready")


# ---------------------------------------------------------------- HTTP / S3

def opener():
    # never route loopback calls through a proxy taken from the environment
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def probe_http(url):
    try:
        with opener().open(url, timeout=TIMEOUT) as r:
            print("%s -> %d" % (url, r.status))
    except urllib.error.HTTPError as e:
        fail("%s -> HTTP %d" % (url, e.code))
    except Exception as e:  # noqa: BLE001
        fail("%s -> %s" % (url, e))


def sigv4_request(method, endpoint, access, secret, path, region="us-east-1", body=b""):
    u = urllib.parse.urlsplit(endpoint)
    host = u.netloc
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    canonical_uri = urllib.parse.quote(path, safe="/-_.~")
    headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        method, canonical_uri, "",
        "".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers)),
        signed, payload_hash,
    ])
    scope = "%s/%s/s3/aws4_request" % (day, region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = h(h(h(h(("AWS4" + secret).encode(), day), region), "s3"), "aws4_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(endpoint.rstrip("/") + canonical_uri, data=body if method == "PUT" else None,
                                 method=method)
    for name, value in headers.items():
        if name != "host":
            req.add_header(name, value)
    req.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                   % (access, scope, signed, sig))
    try:
        with opener().open(req, timeout=TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def s3_bucket(endpoint, access, secret, bucket):
    status, _ = sigv4_request("HEAD", endpoint, access, secret, "/" + bucket)
    if status == 200:
        print("bucket %s exists" % bucket)
        return
    if status != 404:
        fail("HEAD /%s -> HTTP %d" % (bucket, status))
    status, body = sigv4_request("PUT", endpoint, access, secret, "/" + bucket)
    if status != 200 and b"BucketAlreadyOwnedByYou" not in body:
        fail("PUT /%s -> HTTP %d %s" % (bucket, status, body[:300].decode(errors="replace")))
    print("bucket %s created" % bucket)


def main(argv):
    if len(argv) < 2:
        fail(__doc__)
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "cql":
            probe_cql(*args)
        elif cmd == "kafka":
            probe_kafka(*args)
        elif cmd == "kafka-coordinators":
            kafka_coordinators(*args)
        elif cmd == "http":
            probe_http(*args)
        elif cmd == "s3-bucket":
            s3_bucket(*args)
        else:
            fail("unknown probe %r" % cmd)
    except (OSError, ConnectionError, struct.error, ValueError, UnicodeDecodeError) as e:
        fail("%s probe: %s" % (cmd, e))


if __name__ == "__main__":
    main(sys.argv)
