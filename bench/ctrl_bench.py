#!/usr/bin/python3
"""Benchmark for XMail-compatible controller (CTRL) servers.

Speaks the CTRL protocol as described in shared/specs/xmail-ctrl.md (sections 1-4)
and reproduces the measurements of section 9: bulk useradd over one connection,
single-object operations against the resulting population, a parallel bulk add
over several connections, and domaindel of the bench domains.

Python 3 standard library only.  See bench/README.md for usage.
"""

import argparse
import hashlib
import math
import os
import secrets
import socket
import ssl
import sys
import multiprocessing
import threading
import time

perf = time.perf_counter

RECV_SIZE = 1 << 18          # bytes asked for per recv()
MAX_STATUS_LINE = 1 << 20    # a status line longer than this is a protocol error


# --------------------------------------------------------------------------------------------
# Protocol client
# --------------------------------------------------------------------------------------------

class CtrlError(Exception):
    """Connection or protocol failure."""


class CommandFailed(CtrlError):
    """A command answered something other than what the benchmark needs."""

    def __init__(self, what, response):
        CtrlError.__init__(self, '%s -> %s' % (what, response.line))
        self.response = response


class Response:
    """One answer: the RESSTRING line and, for +00100, the raw listing block."""

    __slots__ = ('line', 'code', 'ok', 'block', 'nlines')

    def __init__(self, line, block=None, nlines=0):
        self.line = line
        self.code = line[:6]
        self.ok = line[0] == '+'
        self.block = block      # bytes of the listing lines (still dot-stuffed), or None
        self.nlines = nlines    # number of listing lines

    def lines(self):
        """Listing lines as text, CR/LF removed and one leading dot unstuffed."""
        if not self.block:
            return []
        out = []
        for raw in self.block.split(b'\n')[:-1]:
            text = raw.rstrip(b'\r').decode('utf-8', 'replace')
            if text.startswith('.'):
                text = text[1:]
            out.append(text)
        return out


def quote_field(value):
    """One command field: wrapped in double quotes, inner quotes escaped (spec 2.2)."""
    return '"' + str(value).replace('"', '\\"') + '"'


def encode_command(fields):
    return ('\t'.join(quote_field(f) for f in fields) + '\r\n').encode('utf-8')


def split_record(line):
    """Split one record listing line: TAB separated, one quote stripped at each end."""
    out = []
    for field in line.split('\t'):
        if len(field) >= 2 and field[0] == '"' and field[-1] == '"':
            field = field[1:-1]
        out.append(field)
    return out


class CtrlClient:
    """One controller session.  Buffered reads, TCP_NODELAY, optional #!TLS upgrade."""

    def __init__(self, host, port, timeout=1800.0, quickack=False):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.quickack = bool(quickack) and hasattr(socket, 'TCP_QUICKACK')
        self.buf = bytearray()
        self.pos = 0            # start of the unread part of buf
        self.greeting = None
        self.timestamp = None
        self.tls = False

    # -- low level ---------------------------------------------------------------------------

    def _recv_more(self):
        data = self.sock.recv(RECV_SIZE)
        if not data:
            raise CtrlError('connection closed by the server')
        if self.quickack:
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:
                self.quickack = False
        self.buf += data

    def readline(self):
        """Next line without its line end (CRs before the LF dropped)."""
        buf = self.buf
        scan = self.pos
        while True:
            i = buf.find(b'\n', scan)
            if i >= 0:
                line = bytes(buf[self.pos:i])
                self.pos = i + 1
                return line.rstrip(b'\r').decode('utf-8', 'replace')
            if self.pos:
                del buf[:self.pos]
                self.pos = 0
            if len(buf) > MAX_STATUS_LINE:
                raise CtrlError('response line longer than %d bytes' % MAX_STATUS_LINE)
            scan = len(buf)
            self._recv_more()

    def _read_listing(self):
        """Read the lines after a +00100 line up to the terminating '.' line.

        Must be called right after readline() returned the +00100 line, so that
        buf[pos - 1] is the LF that ended it: the terminator is then always found as
        LF '.' (CR) LF, also for an empty listing.  Returns (block, count), block being
        the listing lines as received (still dot-stuffed) and count the number of lines.
        """
        buf = self.buf
        base = self.pos - 1
        scan = base
        while True:
            end = nxt = -1
            i = buf.find(b'\n.', scan)
            while i >= 0:
                j = i + 2
                n = len(buf)
                if j < n and buf[j] == 10:
                    end, nxt = i + 1, j + 1
                    break
                if j + 1 < n and buf[j] == 13 and buf[j + 1] == 10:
                    end, nxt = i + 1, j + 2
                    break
                if j >= n or (buf[j] == 13 and j + 1 >= n):
                    break               # possibly the terminator, need more bytes
                i = buf.find(b'\n.', i + 1)   # a dot-stuffed line, keep looking
            if end >= 0:
                block = bytes(buf[base + 1:end])
                self.pos = nxt
                return block, block.count(b'\n')
            # keep everything from base on, rescan only the tail
            scan = i if i >= 0 else max(base, len(buf) - 1)
            if base > 0:
                del buf[:base]
                scan -= base
                base = 0
                self.pos = 1
            self._recv_more()

    def send(self, data):
        self.sock.sendall(data)

    def read_response(self):
        line = self.readline()
        if len(line) < 6 or line[0] not in '+-' or not line[1:6].isdigit():
            raise CtrlError('malformed response line: %r' % line[:200])
        if line.startswith('+00100'):
            block, n = self._read_listing()
            return Response(line, block, n)
        if line.startswith('+00101'):
            raise CtrlError('unexpected upload request: %r' % line)
        return Response(line)

    def command(self, *fields):
        self.sock.sendall(encode_command(fields))
        return self.read_response()

    def timed(self, data):
        """Send an encoded command, wait for the whole answer; (seconds, Response)."""
        t0 = perf()
        self.sock.sendall(data)
        r = self.read_response()
        return perf() - t0, r

    # -- session -----------------------------------------------------------------------------

    def login(self, user, password, md5=True, tls=False):
        self.greeting = self.readline()
        if not self.greeting.startswith('+00000'):
            raise CtrlError('server refused the session: %r' % self.greeting[:200])
        a = self.greeting.find('<')
        b = self.greeting.find('>', a + 1) if a >= 0 else -1
        self.timestamp = self.greeting[a:b + 1] if a >= 0 and b > a else None
        if tls:
            self.sock.sendall(b'#!TLS\r\n')
            r = self.readline()
            if not r.startswith('+00000'):
                raise CtrlError('#!TLS refused: %r' % r[:200])
            if self.pos != len(self.buf):
                raise CtrlError('server sent data before the TLS handshake')
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock, server_hostname=None)
            del self.buf[:]
            self.pos = 0
            self.tls = True
        if md5:
            if not self.timestamp:
                raise CtrlError('greeting has no <timestamp> for MD5 login (try --clear): %r'
                                % self.greeting[:200])
            digest = hashlib.md5((self.timestamp + password).encode('utf-8')).hexdigest()
            secret = '#' + digest
        else:
            secret = password
        self.sock.sendall(encode_command((user, secret)))
        r = self.readline()
        if not r.startswith('+'):
            raise CtrlError('login failed: %r' % r[:200])

    def close(self):
        try:
            self.sock.sendall(b'"quit"\r\n')
            self.readline()
        except (OSError, CtrlError, ValueError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def connect(args):
    c = CtrlClient(args.host, args.port, timeout=args.timeout, quickack=args.quickack)
    try:
        c.login(args.user, args.password, md5=args.md5, tls=args.tls)
    except BaseException:
        c.sock.close()
        raise
    return c


# --------------------------------------------------------------------------------------------
# Statistics and output
# --------------------------------------------------------------------------------------------

def _parallel_worker(args, dom, lo, hi, barrier, queue):
    """Runs in its own process: sequential useradds lo..hi-1 over one connection."""
    cl = None
    try:
        try:
            cl = connect(args)
        finally:
            barrier.wait()
        lats = []
        send = cl.sock.sendall
        recv_response = cl.read_response
        t_start = perf()
        for i in range(lo, hi):
            line = useradd_line(dom, i)
            t0 = perf()
            send(line)
            r = recv_response()
            lats.append(perf() - t0)
            if r.line[:6] != '+00000':
                raise CommandFailed('useradd %s %s' % (dom, user_name(i)), r)
        queue.put(('ok', (lats, t_start, perf())))
    except BaseException as e:
        queue.put(('error', 'users %d-%d: %s' % (lo, hi - 1, e)))
    finally:
        if cl is not None:
            cl.close()



def percentile(sorted_vals, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_vals:
        return float('nan')
    k = max(0, math.ceil(p / 100.0 * len(sorted_vals)) - 1)
    return sorted_vals[k]


def mean(vals):
    return sum(vals) / len(vals) if vals else float('nan')


def ms(seconds):
    return seconds * 1000.0


def dur(seconds):
    """Human duration: milliseconds below one second, seconds above."""
    if seconds < 1.0:
        return '%.3f ms' % ms(seconds)
    return '%.3f s' % seconds


def out(label, value):
    print('%-46s %s' % (label + ':', value), flush=True)


def section(title):
    print('\n== %s ==' % title, flush=True)


def note(text):
    print(text, file=sys.stderr, flush=True)


def lat_text(lats):
    s = sorted(lats)
    return 'mean %.3f ms  p99 %.3f ms  max %.3f ms' % (ms(mean(s)), ms(percentile(s, 99)),
                                                       ms(s[-1]))


def fails_text(fails):
    return ', '.join('%s x%d' % (code, n) for code, n in sorted(fails.items()))


def user_name(i):
    return 'u%06d' % i


def user_pass(i):
    return 'pw%06d' % i


def useradd_line(domain, i):
    return ('"useradd"\t"%s"\t"%s"\t"%s"\t"U"\r\n'
            % (domain, user_name(i), user_pass(i))).encode('utf-8')


# --------------------------------------------------------------------------------------------
# Server memory (/proc/PID/status)
# --------------------------------------------------------------------------------------------

def read_mem(pid):
    """{'VmRSS': kB, 'VmHWM': kB} of the server, or None."""
    if not pid:
        return None
    vals = {}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(('VmRSS:', 'VmHWM:')):
                    key, rest = line.split(':', 1)
                    vals[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return vals if len(vals) == 2 else None


def reset_peak(pid):
    """Reset the server's VmHWM to its current RSS (Linux clear_refs 5).  True on success."""
    if not pid:
        return False
    try:
        with open('/proc/%d/clear_refs' % pid, 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def mib(kb):
    return '%.1f MiB' % (kb / 1024.0)


def mem_report(label, before, after, was_reset):
    if before is None or after is None:
        return
    if was_reset:
        out('server RSS ' + label,
            'before %s, after %s, peak during %s (+%s over before)'
            % (mib(before['VmRSS']), mib(after['VmRSS']), mib(after['VmHWM']),
               mib(max(0, after['VmHWM'] - before['VmRSS']))))
    else:
        out('server RSS ' + label,
            'before %s, after %s; lifetime peak (VmHWM) before %s, after %s'
            % (mib(before['VmRSS']), mib(after['VmRSS']), mib(before['VmHWM']),
               mib(after['VmHWM'])))


# --------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.n = args.n
        self.domain = args.domain
        self.pdomain = 'par-' + args.domain
        self.created = []       # domains that exist on the server because of us
        self.summary = {}

    # phase 1 --------------------------------------------------------------------------------

    def phase_domainadd(self, c):
        section('phase 1: domainadd')
        t, r = c.timed(encode_command(('domainadd', self.domain)))
        if not r.ok:
            raise CommandFailed('domainadd %s' % self.domain, r)
        self.created.append(self.domain)
        out('domainadd ' + self.domain, '%.3f ms' % ms(t))

    # phase 2 --------------------------------------------------------------------------------

    def phase_sequential(self, c):
        n = self.n
        dom = self.domain
        section('phase 2: %d sequential useradd over one connection' % n)
        pid = self.args.server_pid
        mem0 = read_mem(pid)
        lats = [0.0] * n
        tenth = max(1, n // 10)
        recv_response = c.read_response
        send = c.sock.sendall
        t_start = perf()
        for i in range(n):
            line = useradd_line(dom, i)
            t0 = perf()
            send(line)
            r = recv_response()
            t1 = perf()
            lats[i] = t1 - t0
            if r.line[:6] != '+00000':
                raise CommandFailed('useradd %s %s (#%d)' % (dom, user_name(i), i + 1), r)
            if (i + 1) % tenth == 0 and n >= 10:
                note('  ... %d/%d adds, %.1f s' % (i + 1, n, t1 - t_start))
        total = perf() - t_start
        mem1 = read_mem(pid)
        rate = n / total if total > 0 else float('inf')
        self.summary['seq_rate'] = rate
        self.summary['seq_total'] = total
        s = sorted(lats)
        out('useradd x%d total' % n, '%.3f s' % total)
        out('useradd rate', '%.1f adds/s' % rate)
        out('useradd latency (all)', lat_text(lats))
        self.summary['seq_p99'] = percentile(s, 99)
        rows = min(10, n)
        for k in range(rows):
            lo, hi = k * n // rows, (k + 1) * n // rows
            part = sorted(lats[lo:hi])
            span = sum(part)
            out('useradd tenth %2d (users %d-%d)' % (k + 1, lo, hi - 1),
                'mean %.3f ms  p99 %.3f ms  (%.0f adds/s)'
                % (ms(mean(part)), ms(percentile(part, 99)),
                   len(part) / span if span > 0 else float('inf')))
        w = min(1000, n)
        first, last = mean(lats[:w]), mean(lats[n - w:])
        out('useradd mean of the first %d' % w, '%.3f ms' % ms(first))
        out('useradd mean of the last %d' % w, '%.3f ms  (%.2fx the first)'
            % (ms(last), last / first if first > 0 else float('nan')))
        self.summary['last_first'] = last / first if first > 0 else float('nan')
        if mem0 and mem1:
            out('server RSS before / after the adds', '%s / %s  (%.0f bytes per user)'
                % (mib(mem0['VmRSS']), mib(mem1['VmRSS']),
                   (mem1['VmRSS'] - mem0['VmRSS']) * 1024.0 / n))

    # phase 3 --------------------------------------------------------------------------------

    def _repeat(self, c, label, lines, expect_ok=True):
        """Time each encoded command; print mean/p99; return (lats, fails, last response)."""
        lats = []
        fails = {}
        r = None
        for data in lines:
            t, r = c.timed(data)
            lats.append(t)
            if not r.ok:
                fails[r.code] = fails.get(r.code, 0) + 1
        text = lat_text(lats)
        if fails and expect_ok:
            text += '  FAILED: ' + fails_text(fails)
        elif fails:
            text += '  (answers: %s)' % fails_text(fails)
        out('%s x%d' % (label, len(lats)), text)
        return lats, fails, r

    def _listing(self, c, label, fields, expect_lines=None):
        """Time a listing command --list-reps times, with server memory around each run."""
        pid = self.args.server_pid
        data = encode_command(fields)
        times = []
        r = None
        for rep in range(self.args.list_reps):
            was_reset = reset_peak(pid)
            mem0 = read_mem(pid)
            t, r = c.timed(data)
            mem1 = read_mem(pid)
            times.append(t)
            if not r.ok:
                out(label, 'FAILED: %s' % r.line)
                return None, r
            if rep == 0:
                mem_report('around ' + label, mem0, mem1, was_reset)
        lines = r.nlines
        extra = ''
        if expect_lines is not None and lines != expect_lines:
            extra = '  WARNING: expected %d lines' % expect_lines
        out(label, '%d lines, %.3f ms (min %.3f, max %.3f over %d runs)%s'
            % (lines, ms(mean(times)), ms(min(times)), ms(max(times)), len(times), extra))
        return times, r

    def phase_single_ops(self, c):
        n = self.n
        dom = self.domain
        reps = self.args.reps
        section('phase 3: operations against %d accounts' % n)

        # baseline round trip
        self._repeat(c, 'noop', [b'"noop"\r\n'] * reps)

        # listings
        times, r = self._listing(c, 'userlist (all)', ('userlist',))
        if times:
            self.summary['userlist_all'] = (mean(times), r.nlines)
        times, r = self._listing(c, 'userlist %s' % dom, ('userlist', dom), expect_lines=n)
        if times:
            self.summary['userlist_dom'] = mean(times)

        probe = min(123, n - 1)
        pname = user_name(probe)
        lats, fails, r = self._repeat(c, 'userlist %s %s' % (dom, pname),
                                      [encode_command(('userlist', dom, pname))] * reps)
        if r is not None and r.ok:
            got = [split_record(line) for line in r.lines()]
            want = [dom, pname, user_pass(probe), 'U']
            if len(got) != 1 or [got[0][0].lower()] + got[0][1:] != want:
                out('  WARNING', 'userlist %s %s answered %r' % (dom, pname, r.lines()[:3]))

        # usercount (AfterLogic extension, spec 6.3; XMail 1.27 answers -00103)
        lats, fails, r = self._repeat(c, 'usercount %s' % dom,
                                      [encode_command(('usercount', dom))] * reps,
                                      expect_ok=False)
        if r is not None and r.ok:
            counts = [split_record(line) for line in r.lines()]
            val = [x[1] for x in counts if len(x) >= 2 and x[0].lower() == dom]
            out('usercount answer', ', '.join(val) if val else repr(r.lines()[:3]))
            if val and val[0] != str(n):
                out('  WARNING', 'usercount says %s, expected %d' % (val[0], n))
        elif r is not None:
            out('usercount answer', 'not supported (%s)' % r.line)
        self.summary['usercount'] = mean(lats) if r is not None and r.ok else None

        # uservars (multi-line answer of a few lines; spec 9 shows the Nagle floor here)
        self._repeat(c, 'uservars %s %s' % (dom, pname),
                     [encode_command(('uservars', dom, pname))] * reps)

        # userauth
        au = min(500, n - 1)
        lats, fails, r = self._repeat(
            c, 'userauth %s %s' % (dom, user_name(au)),
            [encode_command(('userauth', dom, user_name(au), user_pass(au)))] * reps)
        self.summary['userauth'] = mean(lats)
        lats, fails, r = self._repeat(
            c, 'userauth (wrong password)',
            [encode_command(('userauth', dom, user_name(au), 'wrong'))] * min(reps, 20),
            expect_ok=False)
        if r is not None and r.ok:
            out('  WARNING', 'userauth with a wrong password answered %s' % r.line)

        # userpasswd on distinct users spread over the population
        k = min(reps, n)
        targets = sorted({(j * n) // k for j in range(k)})
        lats, fails, r = self._repeat(
            c, 'userpasswd',
            [encode_command(('userpasswd', dom, user_name(i), 'np%06d' % i)) for i in targets])
        self.summary['userpasswd'] = mean(lats)
        if not fails:
            chk = targets[len(targets) // 2]
            r1 = c.command('userauth', dom, user_name(chk), 'np%06d' % chk)
            r2 = c.command('userauth', dom, user_name(chk), user_pass(chk))
            if not r1.ok or r2.ok:
                out('  WARNING', 'after userpasswd: new password -> %s, old password -> %s'
                    % (r1.line, r2.line))

        # more useradds on top of the population
        extra = [encode_command(('useradd', dom, 'x%06d' % j, 'xp%06d' % j, 'U'))
                 for j in range(reps)]
        t, r = c.timed(extra[0])
        out('one more useradd', '%.3f ms%s' % (ms(t), '' if r.ok else '  FAILED: ' + r.line))
        lats, fails, r = self._repeat(c, 'useradd (more)', extra[1:]) if reps > 1 else ([t], {}, r)
        self.summary['useradd_more'] = mean([t] + lats) if reps > 1 else t

        # userdel of distinct users spread over the population
        off = max(1, n // (2 * k)) if n > k else 0
        victims = sorted({min(n - 1, (j * n) // k + off) for j in range(k)})
        lats, fails, r = self._repeat(
            c, 'userdel',
            [encode_command(('userdel', dom, user_name(i))) for i in victims])
        self.summary['userdel'] = mean(lats)

    # phase 4 --------------------------------------------------------------------------------

    def phase_parallel(self):
        n = self.n
        conns = max(1, min(self.args.conns, n))
        dom = self.pdomain
        section('phase 4: %d useradd over %d parallel connections' % (n, conns))
        c = connect(self.args)
        try:
            t, r = c.timed(encode_command(('domainadd', dom)))
            if not r.ok:
                raise CommandFailed('domainadd %s' % dom, r)
            self.created.append(dom)
            out('domainadd ' + dom, '%.3f ms' % ms(t))
        finally:
            c.close()

        # One process per connection: a single Python process cannot drive
        # several connections at full speed (the GIL would measure itself).
        ctx = multiprocessing.get_context('fork')
        barrier = ctx.Barrier(conns)
        queue = ctx.Queue()
        procs = [ctx.Process(target=_parallel_worker,
                             args=(self.args, dom, k * n // conns, (k + 1) * n // conns, barrier, queue),
                             daemon=True)
                 for k in range(conns)]
        for pr in procs:
            pr.start()
        results, errors = [], []
        for _ in procs:
            kind, payload = queue.get()
            if kind == 'ok':
                results.append(payload)
            else:
                errors.append(payload)
        for pr in procs:
            pr.join()
        if errors:
            raise CtrlError('parallel phase failed: ' + '; '.join(errors))
        total = max(r[2] for r in results) - min(r[1] for r in results)
        lats = [x for res in results for x in res[0]]
        rate = n / total if total > 0 else float('inf')
        self.summary['par_rate'] = rate
        self.summary['par_conns'] = conns
        out('parallel useradd x%d total' % n, '%.3f s' % total)
        out('parallel useradd rate (%d connections)' % conns, '%.1f adds/s' % rate)
        out('parallel useradd latency', lat_text(lats))
        seq = self.summary.get('seq_rate')
        if seq:
            out('parallel / sequential rate', '%.2fx' % (rate / seq))

    # phase 5 --------------------------------------------------------------------------------

    def phase_domaindel(self, c):
        section('phase 5: domaindel')
        for dom in list(self.created):
            t, r = c.timed(encode_command(('domaindel', dom)))
            if not r.ok:
                raise CommandFailed('domaindel %s' % dom, r)
            self.created.remove(dom)
            out('domaindel ' + dom, dur(t))
            self.summary.setdefault('domaindel', t)

    def cleanup(self):
        """Best effort: remove bench domains left behind by a failed run."""
        if not self.created or self.args.keep:
            return
        note('cleaning up: domaindel %s' % ' '.join(self.created))
        try:
            c = connect(self.args)
        except (OSError, CtrlError) as e:
            note('cleanup failed: %s' % e)
            return
        try:
            for dom in list(self.created):
                r = c.command('domaindel', dom)
                if r.ok:
                    self.created.remove(dom)
                else:
                    note('cleanup: domaindel %s -> %s' % (dom, r.line))
        except (OSError, CtrlError) as e:
            note('cleanup failed: %s' % e)
        finally:
            c.close()

    # all ------------------------------------------------------------------------------------

    def run(self):
        a = self.args
        c = connect(a)
        try:
            print('Tern/XMail CTRL benchmark', flush=True)
            out('server', '%s:%d%s, login %s as %s'
                % (a.host, a.port, ' (#!TLS)' if a.tls else '', 'MD5' if a.md5 else 'clear text',
                   a.user))
            out('greeting', c.greeting)
            out('bench domain', '%s (parallel: %s)' % (self.domain, self.pdomain))
            out('N / parallel connections / reps', '%d / %d / %d' % (self.n, a.conns, a.reps))
            if a.server_pid:
                m = read_mem(a.server_pid)
                out('server pid', '%d%s' % (a.server_pid, ', RSS %s' % mib(m['VmRSS'])
                                            if m else ' (no /proc status readable)'))
            self.phase_domainadd(c)
            self.phase_sequential(c)
            self.phase_single_ops(c)
        finally:
            c.close()
        if not a.skip_parallel:
            self.phase_parallel()
        if not a.keep:
            c = connect(a)
            try:
                self.phase_domaindel(c)
            finally:
                c.close()
        else:
            section('phase 5: skipped (--keep)')
            out('domains kept', ' '.join(self.created))
        self.print_summary()

    def print_summary(self):
        s = self.summary
        parts = ['n=%d' % self.n,
                 'seq %.0f adds/s (%s, p99 %.3f ms, last/first %.2fx)'
                 % (s['seq_rate'], dur(s['seq_total']), ms(s['seq_p99']), s['last_first'])]
        if 'par_rate' in s:
            parts.append('par(%d) %.0f adds/s (%.2fx)'
                         % (s['par_conns'], s['par_rate'], s['par_rate'] / s['seq_rate']))
        if 'userlist_all' in s:
            parts.append('userlist %.1f ms/%d lines' % (ms(s['userlist_all'][0]),
                                                        s['userlist_all'][1]))
        if 'userlist_dom' in s:
            parts.append('userlist dom %.1f ms' % ms(s['userlist_dom']))
        for key in ('userauth', 'userpasswd', 'useradd_more', 'userdel'):
            if key in s:
                parts.append('%s %.3f ms' % (key.replace('_more', ''), ms(s[key])))
        if s.get('usercount') is not None:
            parts.append('usercount %.3f ms' % ms(s['usercount']))
        elif 'usercount' in s:
            parts.append('usercount n/a')
        if 'domaindel' in s:
            parts.append('domaindel ' + dur(s['domaindel']))
        print('\nSUMMARY: ' + '; '.join(parts), flush=True)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description='Benchmark an XMail-compatible controller (CTRL) server.')
    p.add_argument('--host', default='127.0.0.1', help='server address (default 127.0.0.1)')
    p.add_argument('--port', type=int, default=6017, help='CTRL port (default 6017)')
    p.add_argument('--user', default='admin', help='controller account (default admin)')
    p.add_argument('--password', default=None,
                   help='controller password (default: $TERN_ADMIN_PASSWORD)')
    g = p.add_mutually_exclusive_group()
    g.add_argument('--md5', dest='md5', action='store_true', default=True,
                   help='MD5 challenge login (default)')
    g.add_argument('--clear', dest='md5', action='store_false', help='clear-text login')
    p.add_argument('--tls', action='store_true',
                   help='send #!TLS and do a TLS handshake (certificate not verified)')
    p.add_argument('-n', type=int, default=100000,
                   help='number of accounts to add per bulk phase (default 100000)')
    p.add_argument('--conns', type=int, default=8,
                   help='connections for the parallel phase (default 8)')
    p.add_argument('--domain', default=None,
                   help='bench domain (default bench-<random>.test); the parallel phase '
                        'uses par-<domain>')
    p.add_argument('--skip-parallel', action='store_true', help='skip phase 4')
    p.add_argument('--keep', action='store_true', help='do not domaindel the bench domains')
    p.add_argument('--server-pid', type=int, default=None,
                   help='server pid, to report its RSS from /proc/PID/status')
    p.add_argument('--reps', type=int, default=200,
                   help='repetitions of each single-object operation (default 200)')
    p.add_argument('--list-reps', type=int, default=3,
                   help='repetitions of each full userlist (default 3)')
    p.add_argument('--timeout', type=float, default=1800.0,
                   help='socket timeout in seconds (default 1800)')
    p.add_argument('--quickack', action='store_true',
                   help='set TCP_QUICKACK after every read (works around servers that '
                        'send listings line by line without TCP_NODELAY, spec section 9)')
    a = p.parse_args(argv)
    if a.password is None:
        a.password = os.environ.get('TERN_ADMIN_PASSWORD')
    if a.password is None:
        p.error('no password: give --password or set TERN_ADMIN_PASSWORD')
    if a.n < 1:
        p.error('-n must be at least 1')
    if a.conns < 1:
        p.error('--conns must be at least 1')
    if a.reps < 1 or a.list_reps < 1:
        p.error('--reps and --list-reps must be at least 1')
    if a.domain is None:
        a.domain = 'bench-%s.test' % secrets.token_hex(4)
    a.domain = a.domain.lower()
    return a


def main(argv):
    args = parse_args(argv)
    bench = Bench(args)
    status = 0
    try:
        bench.run()
    except KeyboardInterrupt:
        note('interrupted')
        status = 130
    except (CtrlError, OSError) as e:
        print('ERROR: %s' % e, file=sys.stderr, flush=True)
        status = 1
    finally:
        if status:
            bench.cleanup()
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
