"""A scriptable SMTP sink on loopback for outbound tests.

Each connection is served on its own thread. Knobs (attributes, may be
changed while running):
  mode       "accept" | "defer" (451 at RCPT) | "reject" (550 at RCPT) |
             "defer-once" (451 for the first RCPT, then accept) | "defer-always" (= defer)
  starttls   offer STARTTLS (needs certfile/keyfile)
  auth       None or {"user": ..., "password": ...}: offer AUTH PLAIN LOGIN
             CRAM-MD5 (after TLS only when tls_for_auth) and require it
  hold       seconds to sleep before answering the end of DATA
Records: messages [(sender, rcpts, data, info)], connections, active/max_active
sessions, auth_seen [(mechanism, user, password-ok)], rcpt_attempts, deferred.
"""

import base64
import hashlib
import hmac
import socket
import ssl
import threading
import time


class SmtpSink:
    def __init__(self, mode="accept", certfile=None, keyfile=None, starttls=False, auth=None,
                 tls_for_auth=True, hold=0.0, host="127.0.0.1"):
        self.mode = mode
        self.starttls = starttls
        self.auth = auth
        self.tls_for_auth = tls_for_auth
        self.hold = hold
        self.messages = []
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self.auth_seen = []
        self.rcpt_attempts = 0
        self.deferred = 0
        self.lock = threading.Lock()
        self.tls_ctx = None
        if certfile:
            self.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_ctx.load_cert_chain(certfile, keyfile)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self._session(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self.lock:
                self.active -= 1
            try:
                conn.close()
            except OSError:
                pass

    def _session(self, conn):
        conn.settimeout(30)
        f = conn.makefile("rb")
        conn.sendall(b"220 sink ESMTP\r\n")
        tls = False
        authed = False
        sender, rcpts = None, []

        def send(b):
            conn.sendall(b)

        while True:
            line = f.readline(5000)
            if not line:
                return
            cmd = line.strip()
            up = cmd.upper()
            if up.startswith(b"EHLO") or up.startswith(b"HELO"):
                ext = [b"sink", b"PIPELINING"]
                if self.starttls and not tls:
                    ext.append(b"STARTTLS")
                if self.auth and (tls or not self.tls_for_auth):
                    ext.append(b"AUTH PLAIN LOGIN CRAM-MD5")
                send(b"".join(b"250" + (b"-" if i + 1 < len(ext) else b" ") + e + b"\r\n"
                              for i, e in enumerate(ext)))
            elif up == b"STARTTLS" and self.starttls and not tls:
                send(b"220 2.0.0 go ahead\r\n")
                conn = self.tls_ctx.wrap_socket(conn, server_side=True)
                f = conn.makefile("rb")
                send = conn.sendall  # noqa: F811
                tls = True
            elif up.startswith(b"AUTH") and self.auth:
                authed = self._auth(cmd, f, send)
            elif up.startswith(b"MAIL"):
                if self.auth and not authed:
                    send(b"530 5.7.0 authentication required\r\n")
                    continue
                sender = cmd[10:].strip(b"<>").decode()
                rcpts = []
                send(b"250 2.1.0 ok\r\n")
            elif up.startswith(b"RCPT"):
                with self.lock:
                    self.rcpt_attempts += 1
                    defer = self.mode in ("defer", "defer-always") or (self.mode == "defer-once" and not self.deferred)
                    if defer:
                        self.deferred += 1
                if defer:
                    send(b"451 4.3.0 try later\r\n")
                elif self.mode == "reject":
                    send(b"550 5.1.1 no such user here\r\n")
                else:
                    rcpts.append(cmd[8:].strip(b"<>").decode())
                    send(b"250 2.1.5 ok\r\n")
            elif up == b"DATA":
                if not rcpts:
                    send(b"554 5.5.1 no valid recipients\r\n")
                    continue
                send(b"354 go\r\n")
                data = b""
                while True:
                    l = f.readline()
                    if not l or l == b".\r\n":
                        break
                    data += l[1:] if l.startswith(b"..") else l
                if self.hold:
                    time.sleep(self.hold)
                with self.lock:
                    self.messages.append((sender, rcpts, data, {"tls": tls, "authed": authed}))
                send(b"250 2.0.0 queued\r\n")
            elif up == b"QUIT":
                send(b"221 bye\r\n")
                return
            else:
                send(b"250 ok\r\n")

    def _auth(self, cmd, f, send):
        parts = cmd.split()
        mech = parts[1].upper().decode() if len(parts) > 1 else ""
        want_u, want_p = self.auth["user"], self.auth["password"]
        ok, user = False, None
        if mech == "PLAIN":
            raw = parts[2] if len(parts) > 2 else None
            if raw is None:
                send(b"334 \r\n")
                raw = f.readline().strip()
            _, user, pw = base64.b64decode(raw).decode().split("\0")
            ok = user == want_u and pw == want_p
        elif mech == "LOGIN":
            send(b"334 VXNlcm5hbWU6\r\n")
            user = base64.b64decode(f.readline().strip()).decode()
            send(b"334 UGFzc3dvcmQ6\r\n")
            pw = base64.b64decode(f.readline().strip()).decode()
            ok = user == want_u and pw == want_p
        elif mech == "CRAM-MD5":
            chal = b"<12345.67890@sink>"
            send(b"334 " + base64.b64encode(chal) + b"\r\n")
            resp = base64.b64decode(f.readline().strip()).decode()
            user, digest = resp.rsplit(" ", 1)
            good = hmac.new(want_p.encode(), chal, hashlib.md5).hexdigest()
            ok = user == want_u and hmac.compare_digest(digest, good)
        with self.lock:
            self.auth_seen.append((mech, user, ok))
        send(b"235 2.7.0 ok\r\n" if ok else b"535 5.7.8 bad credentials\r\n")
        return ok

    def close(self):
        self.stop = True
        self.sock.close()
