"""Admin CLI: a conformance walk driven by the server's own command table.

`tern reference --json` prints every context of the CLI (name, prompt,
parent, commands with their syntax, argument spec and where they lead,
attributes).  This file reads it and, against a live server:

1. reaches every context through the rows that enter it (one test per
   entering row: CREATE/ADD with fresh valid arguments, UPDATE with an
   object that exists, CONFIG/ENTER), and checks the prompt is exactly the
   one the row says (spec 4);
2. in every context checks that HELP lists exactly the table's commands
   (6.7), that SHOW has the 6.6 layout and shows every showable attribute,
   that SHOW ATTR <name> gives the same value, that every command with one
   argument too many (and, when it needs arguments, with none) answers
   -ERR (6.3) and leaves the session in the same context with the same
   pending copy, that an unknown command and a command of another context
   get their two distinct errors, that a pending edit does not survive
   BACK (7.1) nor one DONE handed up survive the parent's BACK, that the
   parent's own pending edit survives the visit, that BACK (and DONE where
   it applies) leads to the parent's prompt with the 6.2 status text, that
   every LIST has a 6.5 frame and SHOW <Type> <key> equals SHOW inside the
   object, and that every entering row also works in other spellings
   (5.2, 5.3);
3. feeds every command odd and oversized values (test_context_odd_values):
   replies keep the grammar and stay UTF-8, the session its context;
4. checks that the services the spec names but Tern does not have answer
   a clear -ERR.
WALK_TRACE=1 (with pytest -s) prints every line sent and every reply.

Nothing here names a command: new rows in the table are walked as they
appear.  Every reply also passes cliclient's grammar check (6.1).
"""

import itertools
import json
import os
import re
import uuid
import subprocess
from pathlib import Path

import pytest

from cliclient import BYE, CliProtocolError
from smtpclient import set_settings

REPO = Path(__file__).resolve().parents[2]
TERN = Path(os.environ.get("TERN_CLIENT", REPO / "build" / "tern"))

PASSWORD = "Walk-pass-1"
BOGUS = "walkbogus"
UNKNOWN_VERB = "FROBNICATE"
TRACE = os.environ.get("WALK_TRACE") == "1"
OK_TEXT = "+OK: command successful"


def _load_reference():
    try:
        out = subprocess.run([str(TERN), "reference", "--json"], capture_output=True, text=True,
                             timeout=60, check=True).stdout
        return json.loads(out)["contexts"], None
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        return [], f"tern reference --json failed: {e!r}"


CONTEXTS, LOAD_ERROR = _load_reference()
BY_NAME = {c["name"]: c for c in CONTEXTS}
BY_PROMPT = {c["prompt"]: c for c in CONTEXTS}


def first_alt(words):
    """'EXIT/QUIT' -> 'EXIT' (every word's first spelling)."""
    return " ".join(w.split("/")[0].split("|")[0] for w in words.split())


def entering_rows():
    """(source context, row) for every row that enters another context."""
    out = []
    for c in CONTEXTS:
        for row in c["commands"]:
            if row.get("available") and (row.get("enters") or "").startswith("<") \
                    and row["enters"] != c["prompt"] and row.get("target") in BY_NAME:
                out.append((c, row))
    return out


ENTERING = entering_rows()


def _row_rank(row):
    """Prefer rows that need no object to exist: CONFIG/ENTER, then
    CREATE/ADD (fresh values), then UPDATE."""
    verb = row["words"].split()[0].upper()
    return 0 if not any(a["kind"] in ("value", "pair") for a in row["args"]) else (1 if verb != "UPDATE" else 2)


def canonical_routes():
    """prompt -> list of (source prompt, row): a way from root to every
    prompt the table's rows lead to (breadth first, preferring rows that
    need no stored object)."""
    routes = {"<#>": []}
    queue = ["<#>"]
    ctx_of = {"<#>": BY_NAME.get("root")}
    while queue:
        here = queue.pop(0)
        c = ctx_of[here]
        rows = [r for r in c["commands"] if r.get("available") and (r.get("enters") or "").startswith("<")
                and r.get("target") in BY_NAME]
        for row in sorted(rows, key=_row_rank):
            to = row["enters"]
            if to in routes:
                continue
            routes[to] = routes[here] + [(here, row)]
            ctx_of[to] = BY_NAME[row["target"]]
            queue.append(to)
    return routes, ctx_of


ROUTES, CTX_OF_PROMPT = canonical_routes() if CONTEXTS else ({}, {})


# ------------------------------------------------------------------ values

_counter = itertools.count(1)
_tag = uuid.uuid4().hex[:4]


class Values:
    """Fresh valid argument values, by what the argument's meta/key says
    (a number within the range of the entered context's attribute of the
    same name)."""

    def __init__(self):
        self.bump = {}   # row words -> how far above the minimum to go

    def fresh(self, row, arg):
        n = next(_counter)
        meta = (arg.get("meta") or "").lower()
        key = (arg.get("key") or "").lower()
        obj = row["words"].split()[-1].lower()
        target = BY_NAME.get(row.get("target") or "")
        attr = next((a for a in (target or {}).get("attributes", [])
                     if a["name"].lower() in (key, meta) and a["type"] == "number" and "min" in a), None)
        if attr is not None:   # the lowest free one is found by enter()
            return str(attr["min"] + self.bump.get(row["words"], 0))
        if "pass" in meta or key == "password":
            return PASSWORD
        if "email" in meta or key == "email":
            return f"walk{n}{_tag}@walk.test"
        if meta == "address" or key == "address":
            return f"127.0.0.1:{40000 + n % 20000}"
        if meta == "ip":
            return "127.0.0.1"
        if "iprange" in meta or key == "ipset":
            return f"10.{n % 250}.{n // 250 % 250}.0/24"
        if "priority" in meta or key == "priority":
            return str(1 + n % 30)
        if obj == "domain" or "domain" in meta:
            return f"walk{n}{_tag}.test"
        return f"walk{n}{_tag}"


def required_args(row, values, key_value=None):
    """The required arguments of a row, filled in (key_value for the first
    positional one when given)."""
    parts = []
    for a in row["args"]:
        if a["kind"] == "value":
            v = key_value if key_value is not None else values.fresh(row, a)
            key_value = None
            parts.append(quote(v))
        elif a["kind"] == "pair":
            parts += [a["key"], quote(values.fresh(row, a))]
        elif a["kind"] in ("attributes", "rest"):
            raise ValueError(f"{row['words']}: cannot enter with free arguments")
    return parts


def quote(v):
    return v if re.fullmatch(r"[A-Za-z0-9_.@:/*-]+", v) else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def full_args(row):
    """Every argument slot filled with a placeholder (the command is never
    run: one more argument is always refused by the parser)."""
    parts = []
    for a in row["args"]:
        k = a["kind"]
        if k in ("value", "optional-value"):
            parts.append("walkx")
        elif k in ("pair", "optional-pair"):
            parts += [a["key"], "walkx"]
        elif k == "flag":
            parts.append(a["key"])
    return parts


def table_first_cells(r):
    rows = r.pieces[5:-3]
    return [x.split(" | ")[0].strip() for x in rows if x.strip()]


# ------------------------------------------------------------------ walking

class Broken(Exception):
    """The session is out of step (protocol error or closed): reconnect."""


class Walker:
    def __init__(self, server):
        self.server = server
        self.values = Values()
        self.cl = None
        self.problems = []
        self.lines = {}   # (source prompt, words) -> the line that entered it the first time

    def connect(self):
        if self.cl is not None:
            self.cl.close()
        self.cl = self.server.cli()
        return self.cl

    def close(self):
        if self.cl is not None:
            try:
                self.cl.send_line("EXIT")
                r = self.cl.read_reply()
                if r.raw != BYE:
                    self.problems.append(f"EXIT: {r!r}")
            except (OSError, CliProtocolError):
                pass
            self.cl.close()
            self.cl = None

    def cmd(self, line):
        try:
            r = self.cl.cmd(line)
            if TRACE:
                print(f"C: {line}\nS: {r.raw.decode()}")
        except (CliProtocolError, OSError, UnicodeDecodeError) as e:
            self.problems.append(f"{line[:200]!r}: {e}")
            raise Broken() from None
        if r.closed:
            self.problems.append(f"{line!r}: the session ended: {r!r}")
            raise Broken()
        return r

    def expect_ok(self, line, prompt=None):
        r = self.cmd(line)
        if not r.ok or (prompt is not None and r.prompt != prompt + " "):
            raise AssertionError(f"{line!r}: expected +OK and {prompt}, got {r!r}")
        return r

    # -- entering
    def key_for_update(self, here, ctx, row):
        """A key that exists for UPDATE <Type>: the first row of the
        context's LIST <Type>s; made with the ADD/CREATE row of the same
        type (and COMMIT or DONE) when the list is empty."""
        typ = row["words"].split()[1].lower()
        lister = next((r for r in ctx["commands"] if r["words"].lower() in
                       (f"list {typ}s", f"list {typ}es", f"list all{typ}s")), None)
        if lister is None:
            raise AssertionError(f"{here} {row['words']}: no LIST row to find an existing object")
        keys = table_first_cells(self.expect_ok(lister["words"], here))
        if keys:
            return keys[0]
        maker = next((r for r in ctx["commands"] if r["words"].lower() in (f"add {typ}", f"create {typ}")
                      and (r.get("enters") or "").startswith("<")), None)
        if maker is None:
            raise AssertionError(f"{here}: {lister['words']} is empty and nothing makes one")
        args = required_args(maker, self.values)
        self.expect_ok(" ".join([maker["words"]] + args), maker["enters"])
        made = BY_NAME[maker["target"]]
        leave = "COMMIT" if any(r["words"] == "COMMIT" for r in made["commands"]) else "DONE"
        r = self.leave(leave, made, maker)
        if not r.ok or r.prompt != here + " ":
            raise AssertionError(f"{leave} of a new {typ}: {r!r}")
        keys = table_first_cells(self.expect_ok(lister["words"], here))
        if not keys:
            raise AssertionError(f"{here}: {lister['words']} still empty after {maker['words']} + {leave}")
        return keys[0]

    def leave(self, word, ctx, row):
        """COMMIT or DONE of a context entered through row, giving the
        values the object needs before it can be stored ("Missing required
        parameter X") fresh values first."""
        for _ in range(len(ctx["attributes"]) + 1):
            r = self.cmd(word)
            m = re.fullmatch(r"Missing required parameter (\S+)", r.text or "")
            if r.ok or not m:
                return r
            attr = next((a for a in ctx["attributes"] if a["name"].lower() == m.group(1).lower()), None)
            arg = {"meta": attr["type"] if attr else m.group(1), "key": m.group(1)}
            if m.group(1).lower() == "address" and ctx["name"].endswith("nameserver"):
                arg = {"meta": "ip", "key": "ip"}
            self.expect_ok(f"SET {m.group(1)} {quote(self.values.fresh(row, arg))}", row["enters"])
        return r

    def enter_line(self, here, ctx, row):
        k = (here, row["words"])
        if k in self.lines:
            return self.lines[k]
        key = None
        if row["words"].split()[0].upper() == "UPDATE":
            key = self.key_for_update(here, ctx, row)
        line = " ".join([row["words"]] + required_args(row, self.values, key))
        self.lines[k] = line
        return line

    def enter(self, here, ctx, row):
        """Enter through row; a fresh value that happens to be taken (an
        "already exists") is replaced by another one."""
        for _ in range(8):
            line = self.enter_line(here, ctx, row)
            r = self.cmd(line)
            if r.ok or row["words"].upper().startswith("UPDATE") or not re.search(
                    r"already exists|Invalid value", r.text or ""):
                return line, r
            del self.lines[(here, row["words"])]
            self.values.bump[row["words"]] = self.values.bump.get(row["words"], 0) + 1
        return line, r

    def walk(self, route):
        """Follow (source prompt, row) steps from root; the prompts must be
        exactly those the rows say."""
        for here, row in route:
            line, r = self.enter(here, BY_PROMPT.get(here) or CTX_OF_PROMPT[here], row)
            if not r.ok:
                raise AssertionError(f"{here} {line!r}: {r!r}")
            if r.prompt != row["enters"] + " ":
                raise AssertionError(f"{here} {line!r}: prompt {r.prompt!r}, the table says {row['enters']!r}")
            if r.status != OK_TEXT:   # 6.2: XKOI looks for this text after UPDATE/ADD
                self.problems.append(f"{line!r}: status {r.status!r}, not {OK_TEXT!r}")


# ------------------------------------------------------------------ checks

HELP_LINE = re.compile(r"^(.*?) - (.*)$")
SET_HELP = re.compile(r"^SET \[(\S+) <[^>]*>\]$")
SHOW_LINE = re.compile(r"^(\S+) = (.*)$")


def check_help(w, ctx, prompt):
    r = w.cmd("HELP")
    p = w.problems
    if not r.ok or r.prompt != prompt + " ":
        p.append(f"HELP: {r!r}")
        return r
    d = r.data
    if len(d) < 3 or d[0] != "" or d[1] != f"The commands available for the {ctx['title']} context are:" \
            or d[-1] != "" or d[-2] == "":
        p.append(f"HELP frame (6.7): {d[:2]!r} ... {d[-2:]!r}")
        return r
    served, set_names = [], []
    for line in d[2:-1]:
        if line == "":
            continue
        m = HELP_LINE.match(line)
        if not m:
            p.append(f"HELP line without ' - ': {line!r}")
            continue
        sm = SET_HELP.match(m.group(1))
        if sm:
            set_names.append(sm.group(1))
        else:
            served.append(line)
    listed = [f"{c['syntax']} - {c['help']}" for c in ctx["commands"]
              if c.get("available") and not c["words"] == "SET"]
    if sorted(served) != sorted(listed):
        extra = sorted(set(served) - set(listed))
        missing = sorted(set(listed) - set(served))
        dup = sorted({x for x in served if served.count(x) > 1})
        p.append(f"HELP differs from the table: extra {extra}, missing {missing}, twice {dup}")
    has_set = any(c["words"] == "SET" and c.get("available") for c in ctx["commands"])
    names = {a["name"] for a in ctx["attributes"]}
    settable = {a["name"] for a in ctx["attributes"] if a["settable"]}
    if has_set:
        if len(set(set_names)) != len(set_names):
            p.append(f"HELP lists a SET attribute twice: {set_names}")
        if not settable <= set(set_names):
            p.append(f"HELP: settable attributes without a SET line: {sorted(settable - set(set_names))}")
        if not set(set_names) <= names:
            p.append(f"HELP: SET lines for attributes the table does not have: {sorted(set(set_names) - names)}")
    elif set_names:
        p.append(f"HELP: SET lines in a context without SET: {set_names}")
    return r


def check_show(w, ctx, prompt):
    """SHOW's 6.6 layout, its keys against the table's attributes, and
    SHOW ATTR <name> against SHOW. Returns {key: value} (None without SHOW)."""
    show = next((c for c in ctx["commands"] if c["words"] == "SHOW" and c.get("available")), None)
    if show is None:
        return None
    p = w.problems
    r = w.cmd("SHOW")
    if not r.ok or r.prompt != prompt + " ":
        p.append(f"SHOW: {r!r}")
        return None
    d = r.data
    if len(d) < 3 or d[0] != "" or not d[1].endswith(":") or "=" in d[1] or d[-1] != "" or d[-2] == "":
        p.append(f"SHOW frame (6.6): {d!r}")
        return None
    values = {}
    for line in d[2:-1]:
        m = SHOW_LINE.match(line)
        if not m:
            if not line.startswith("Permissions on Domain "):   # admin users (6.6)
                p.append(f"SHOW line not 'attr = value': {line!r}")
            continue
        if m.group(1) in values:
            p.append(f"SHOW lists {m.group(1)} twice")
        values[m.group(1)] = m.group(2)
    attrs = {a["name"]: a for a in ctx["attributes"]}
    shown = {n for n, a in attrs.items() if a["shown"]}
    if not shown <= set(values):
        p.append(f"SHOW misses showable attributes {sorted(shown - set(values))}")
    if not set(values) <= shown:
        p.append(f"SHOW prints keys that are not showable attributes {sorted(set(values) - shown)}")
    for k, v in values.items():
        a = attrs.get(k)
        if a is None:
            continue
        if a["type"] == "password" and v.strip('"').strip("*"):
            p.append(f"SHOW prints the password {k} in clear")
        inherits = v == "-" and "- :" in (a.get("help") or "")   # documented: "-" = the level above's value
        if a["type"] == "number" and not re.fullmatch(r"-?\d+", v) and not inherits:
            p.append(f"SHOW: number {k} = {v!r}")
        if a["type"] == "choice" and a.get("choices") and "|" in a["choices"] \
                and v not in a["choices"].split("|"):
            p.append(f"SHOW: choice {k} = {v!r} not one of {a['choices']}")
        if a["type"] == "string" and not (v.startswith('"') and v.endswith('"')) \
                and not re.fullmatch(r"\(.*\)|yes|no|[0-9]+|-|none", v):
            p.append(f"SHOW: string {k} = {v!r} neither quoted nor a set, yes/no or number")
    if any(x["kind"] == "optional-pair" and x["key"] == "ATTR" for x in show["args"]):
        for k, v in values.items():
            r = w.cmd(f"SHOW ATTR {k}")
            if not r.ok or r.data != [f"{k} = {v}"] or r.prompt != prompt + " ":
                p.append(f"SHOW ATTR {k}: expected {k} = {v}, got {r!r}")
        # the attributes SHOW leaves out are known ones all the same
        for a in ctx["attributes"]:
            if a["name"] in values:
                continue
            r = w.cmd(f"SHOW ATTR {a['name']}")
            if r.prompt != prompt + " " or (r.text or "").startswith("Unknown attribute"):
                p.append(f"SHOW ATTR {a['name']} (not in SHOW): {r!r}")
            elif r.ok and (a["type"] == "password" or r.data[:1] != [f"{a['name']} = {r.data[0].split(' = ', 1)[-1]}"]):
                p.append(f"SHOW ATTR {a['name']} (not in SHOW) prints {r!r}")
        r = w.cmd(f"SHOW ATTR {BOGUS}")
        if r.ok or r.prompt != prompt + " " or r.text != f"Unknown attribute {BOGUS}":
            p.append(f"SHOW ATTR of an unknown attribute: {r!r}")
    return values


def lister_of(ctx, typ):
    typ = typ.lower()
    return next((r for r in ctx["commands"] if r.get("available") and r["words"].lower() in
                 (f"list {typ}s", f"list {typ}es", f"list all{typ}s")), None)


def check_lists(w, ctx, prompt):
    """Every LIST that needs no argument: the table or simple-list frame
    of 6.5."""
    p = w.problems
    for row in ctx["commands"]:
        if not row.get("available") or row["words"].split()[0].upper() != "LIST" \
                or any(a["kind"] in ("value", "pair", "rest", "attributes") for a in row["args"]):
            continue
        r = w.cmd(first_alt(row["words"]))
        if not r.ok or r.prompt != prompt + " ":
            p.append(f"{row['words']}: {r!r}")
            continue
        d = r.data
        if len(d) < 3 or d[0] != "" or not d[1].endswith(":") or "=" in d[1] or d[-1] != "":
            p.append(f"{row['words']}: not a 6.5 frame: {d!r}")
            continue
        if len(d) >= 6 and d[2] == "" and re.fullmatch(r"-{6,}", d[4]):
            header = [h.strip() for h in d[3].split(" | ")]
            for line in d[5:-1]:
                cells = [x.strip() for x in line.split(" | ")]
                if len(cells) != len(header) or "" in cells:
                    p.append(f"{row['words']}: row {line!r} does not fit the header {d[3]!r}")
        else:
            items = d[2:-1]
            if "" in items:
                p.append(f"{row['words']}: an empty line inside the list: {d!r}")


def show_values(w, line, prompt, what):
    """A SHOW-shaped reply (6.6) as a dict, or None (problem noted)."""
    r = w.cmd(line)
    d = r.data
    if not r.ok or r.prompt != prompt + " " or len(d) < 3 or d[0] != "" or not d[1].endswith(":") \
            or "=" in d[1] or d[-1] != "" or d[-2] == "":
        w.problems.append(f"{what} {line!r}: not a 6.6 SHOW: {r!r}")
        return None
    return {m.group(1): m.group(2) for m in map(SHOW_LINE.match, d[2:-1]) if m}


def check_show_rows(w, ctx, prompt):
    """SHOW <Type> <key> of an existing object (found with LIST <Type>s):
    the 6.6 frame, SHOW <Type> <key> ATTR <a> for every line, and the same
    values as SHOW inside the object (entered with UPDATE <Type> <key>)."""
    p = w.problems
    for row in ctx["commands"]:
        ws = row["words"].split()
        if not row.get("available") or len(ws) != 2 or ws[0].upper() != "SHOW" \
                or not row["args"] or row["args"][0]["kind"] != "value":
            continue
        lister = lister_of(ctx, ws[1])
        if lister is None:
            continue
        r = w.cmd(lister["words"])
        keys = table_first_cells(r) if r.ok else []
        if not keys:
            continue
        key = quote(keys[0])
        outside = show_values(w, f"{row['words']} {key}", prompt, "SHOW <Type>")
        if outside is None:
            continue
        if any(a["kind"] == "optional-pair" and a["key"] == "ATTR" for a in row["args"]):
            for k, v in outside.items():
                r = w.cmd(f"{row['words']} {key} ATTR {k}")
                if not r.ok or r.data != [f"{k} = {v}"] or r.prompt != prompt + " ":
                    p.append(f"{row['words']} {key} ATTR {k}: expected {k} = {v}, got {r!r}")
        upd = next((u for u in ctx["commands"] if u.get("available") and u["words"].lower() ==
                    f"update {ws[1].lower()}" and u.get("target") in BY_NAME), None)
        if upd is None or not any(c["words"] == "SHOW" for c in BY_NAME[upd["target"]]["commands"]):
            continue
        r = w.cmd(f"{upd['words']} {key}")
        if not r.ok or r.prompt != upd["enters"] + " ":
            p.append(f"{upd['words']} {key}: {r!r}")
            continue
        inside = show_values(w, "SHOW", upd["enters"], "SHOW inside")
        if inside is not None and inside != outside:
            p.append(f"{row['words']} {key} differs from SHOW inside: {outside} != {inside}")
        r = w.cmd("BACK")
        if r.prompt != prompt + " ":
            p.append(f"BACK from {upd['enters']}: {r!r}")
            raise Broken()


def other_rows(ctx):
    """Distinct command words of the other contexts that no command of ctx
    matches as long (cli_match: a longer match elsewhere)."""
    here = [first_alt(c["words"]).lower().split() for c in ctx["commands"]]
    here_alts = [[w.lower().split("/") for w in c["words"].split()] for c in ctx["commands"]]

    def here_k(tokens):
        best = 0
        for alts in here_alts:
            if len(alts) <= len(tokens) and all(t in a for t, a in zip(tokens, alts)):
                best = max(best, len(alts))
        return best

    seen, out = set(), []
    for c in CONTEXTS:
        if c is ctx:
            continue
        for row in c["commands"]:
            words = first_alt(row["words"])
            toks = words.lower().split()
            if words.lower() in seen or toks in here:
                continue
            seen.add(words.lower())
            if here_k(toks) < len(toks):
                out.append(words)
    return out


def check_errors(w, ctx, prompt, login=False):
    """Every command with one argument too many and, when it needs
    arguments, with none; unknown commands; commands of other contexts."""
    p = w.problems
    want = prompt + " "

    def err(line, text=None, why=""):
        r = w.cmd(line)
        if r.ok or r.status is None or r.prompt != want:
            p.append(f"{line!r} {why}: expected -ERR and {prompt}, got {r!r}")
        elif text is not None and r.text != text:
            p.append(f"{line!r} {why}: expected -ERR: {text}, got {r.status!r}")
        return r

    for row in ctx["commands"]:
        words = first_alt(row["words"])
        kinds = [a["kind"] for a in row["args"]]
        if not row.get("available"):
            err(words, None, "(not available)")
            err(f"{words} {BOGUS}", None, "(not available)")
            continue
        if "attributes" in kinds:
            err(words, "Invalid parameters (missing argument)")
            err(f"{words} {BOGUS} 1", f"Unknown attribute {BOGUS}")
            settable = [a for a in ctx["attributes"] if a["settable"]]
            if settable:
                err(f"{words} {settable[0]['name']}", None, "(a value missing)")
            continue
        if "rest" in kinds:
            err(words, "Invalid parameters (missing argument)")
            err(f"{words} {BOGUS}", None, "(a bogus value)")
            continue
        if any(k in ("value", "pair") for k in kinds):
            err(words, "Invalid parameters (missing argument)")
        err(" ".join([words] + full_args(row) + [BOGUS]), "Invalid parameters (unexpected argument)")
    err(UNKNOWN_VERB, "Unknown command")
    err(f"{UNKNOWN_VERB} {BOGUS} 1 2", "Unknown command")
    elsewhere = "You must login first" if login else "Unknown command in this context"
    for words in other_rows(ctx):
        err(words, elsewhere, "(a command of another context)")


def settable_probe(ctx, values, row=None):
    """An attribute and another valid value for it (number with a range
    or choice with alternatives), to see where a pending edit goes; not
    the object's key (the entering row's argument)."""
    keys = {(x.get(k) or "").lower() for x in (row or {}).get("args", []) for k in ("key", "meta")}
    for a in ctx["attributes"]:
        if not a["settable"] or a["name"] not in values or a["name"].lower() in keys:
            continue
        cur = values[a["name"]]
        if a["type"] == "number" and "min" in a and "max" in a:
            for v in (a["min"], a["max"], (a["min"] + a["max"]) // 2):
                if str(v) != cur:
                    return a["name"], str(v)
        if a["type"] == "choice" and a.get("choices") and "|" in a["choices"]:
            for v in a["choices"].split("|"):
                if v != cur:
                    return a["name"], v
    return None


def variant_line(row, line):
    """The same command in other spellings (5.2, 5.3): the command words
    in swapped case, every optional keyword written out, pair keys in upper
    case; the values unchanged."""
    n = len(row["words"].split())
    toks = line.split()
    out, rest = [w.swapcase() for w in toks[:n]], toks[n:]
    for a in row["args"]:
        if a["kind"] == "value" and rest:
            if a.get("key"):
                out.append(a["key"].lower())
            out.append(rest.pop(0))
        elif a["kind"] == "pair" and len(rest) >= 2:
            out += [rest.pop(0).upper(), rest.pop(0)]
    return " ".join(out + rest)


def parent_show(w, parent):
    """The parent context's SHOW output (None when it has no SHOW)."""
    parent_ctx = CTX_OF_PROMPT.get(parent) or BY_PROMPT.get(parent)
    if any(c["words"] == "SHOW" and c.get("available") for c in parent_ctx["commands"]):
        return w.cmd("SHOW").raw
    return None


def check_context(w, route, ctx, prompt, parent_before):
    """Everything of part 2 in the context at the end of route (the session
    is there); ends in the parent context."""
    p = w.problems
    help1 = check_help(w, ctx, prompt)
    show1 = check_show(w, ctx, prompt)
    check_lists(w, ctx, prompt)
    check_show_rows(w, ctx, prompt)
    check_errors(w, ctx, prompt)
    # the refused commands changed nothing
    help2 = w.cmd("HELP")
    if help1 is not None and help2.raw != help1.raw:
        p.append("HELP differs after the refused commands")
    if show1 is not None:
        after = w.cmd("SHOW")
        again = {m.group(1): m.group(2) for m in map(SHOW_LINE.match, after.data) if m}
        if again != show1:
            p.append(f"SHOW differs after the refused commands: {show1} -> {again}")
    parent, row = route[-1]
    parent_ctx = CTX_OF_PROMPT.get(parent) or BY_PROMPT.get(parent)
    names = [c["words"] for c in ctx["commands"] if c.get("available")]
    if "BACK" not in names:
        p.append(f"{prompt}: no BACK (a context that cannot be left)")
        return
    # a pending edit dies with BACK: the same object entered again shows
    # the old value, and the parent is as it was before entering
    probe = settable_probe(ctx, show1, row) if show1 else None
    if probe:
        name, v = probe
        r = w.cmd(f"SET {name} {v}")
        if not r.ok:
            p.append(f"SET {name} {v}: {r!r}")
            probe = None
        else:
            r = w.cmd(f"SHOW ATTR {name}")
            if r.data != [f"{name} = {v}"]:
                p.append(f"SHOW ATTR {name} after SET {name} {v}: {r!r}")
    r = w.cmd("BACK")
    if r.status != OK_TEXT or r.prompt != parent + " ":
        p.append(f"BACK: expected {OK_TEXT} and {parent}, got {r!r}")
        return
    if parent_before is not None and parent_show(w, parent) != parent_before:
        p.append(f"the parent's SHOW changed after BACK from {prompt}")
    if probe:
        r = w.cmd(w.enter_line(parent, parent_ctx, row))
        if not r.ok or r.prompt != prompt + " ":
            p.append(f"entering {prompt} again: {r!r}")
            return
        name, v = probe
        r = w.cmd(f"SHOW ATTR {name}")
        if r.data != [f"{name} = {show1[name]}"]:
            p.append(f"a pending edit survived BACK: {r.data}, was {show1[name]}")
        r = w.cmd("BACK")
        if not r.ok or r.prompt != parent + " ":
            p.append(f"BACK (second time): {r!r}")
            return
    # DONE, where the table has it, also leads to the parent; where it only
    # hands the edits up (7.1), they die with the parent's BACK
    done = next((c for c in ctx["commands"] if c["words"] == "DONE" and c.get("available")), None)
    if done is None:
        return
    r = w.cmd(w.enter_line(parent, parent_ctx, row))
    if not r.ok or r.prompt != prompt + " ":
        p.append(f"entering {prompt} again: {r!r}")
        return
    hand_up = probe is not None and not done["changes"] and len(route) >= 2 \
        and w.cmd(f"SET {probe[0]} {probe[1]}").ok
    r = w.leave("DONE", ctx, row)
    if r.status != OK_TEXT or r.prompt != parent + " ":
        p.append(f"DONE: expected +OK and {parent}, got {r!r}")
        return
    if hand_up:
        grand, prow = route[-2]
        gctx = CTX_OF_PROMPT.get(grand) or BY_PROMPT.get(grand)
        if w.cmd("BACK").prompt != grand + " ":
            p.append(f"BACK from {parent} after DONE")
            return
        for line, want in ((w.enter_line(grand, gctx, prow), parent), (w.enter_line(parent, parent_ctx, row), prompt)):
            r = w.cmd(line)
            if not r.ok and "not found" in (r.text or ""):
                return   # it existed only in the copy BACK dropped
            if not r.ok or r.prompt != want + " ":
                p.append(f"entering {want} again after DONE and BACK: {r!r}")
                return
        name = probe[0]
        r = w.cmd(f"SHOW ATTR {name}")
        if r.data != [f"{name} = {show1[name]}"]:
            p.append(f"an edit handed up by DONE survived the parent's BACK: {r.data}, was {show1[name]}")
        w.cmd("BACK")


ODD_VALUES = ("x" * 300, "x" * 1100, "y" * 3000, "\u00e9" * 200, "\u00e9" * 600, "\u20ac" * 170, "'", '""', "()", "(", ")",
              "-", "*", "%s%n", "..", "0", "-1", "99999999999999999999", "a\\b")


def odd_lines(ctx):
    """(row, line) for every available command that takes a value, once
    per odd value in its first value slot (the other slots get a name
    that does not exist); SET once per attribute and odd value."""
    out = []
    for row in ctx["commands"]:
        kinds = [a["kind"] for a in row["args"]]
        if not row.get("available"):
            continue
        words = first_alt(row["words"])
        if "attributes" in kinds:
            for a in ctx["attributes"]:
                out += [(row, f"{words} {a['name']} {quote(v)}") for v in ODD_VALUES]
            continue
        if not any(k in ("value", "pair", "optional-value", "optional-pair", "rest") for k in kinds):
            continue
        if row["changes"] and not any(k in ("value", "pair") for k in kinds):
            continue   # runs whatever the value (SAVE CONFIG [<label>])
        if words.upper() in ("USER", "CHANGE PASSWORD"):
            continue   # a password prompt / a failed-login delay
        for v in ODD_VALUES:
            parts, used = [words], False
            for a in row["args"]:
                val = "walknosuch" if used else quote(v)
                if a["kind"] in ("value", "optional-value", "rest"):
                    parts.append(val)
                    used = True
                elif a["kind"] in ("pair", "optional-pair"):
                    parts += [a["key"], val]
                    used = True
            out.append((row, " ".join(parts)))
    return out


def check_odd_values(w, ctx, prompt):
    """Odd and oversized values: every reply keeps the grammar (and is
    UTF-8), stays in the context, or enters the context the row says."""
    for row, line in odd_lines(ctx):
        r = w.cmd(line)
        if r.prompt == prompt + " ":
            continue
        if r.ok and r.prompt == (row.get("enters") or "") + " ":
            r = w.cmd("BACK")
            if r.prompt == prompt + " ":
                continue
        w.problems.append(f"{line[:120]!r}: {r.raw[:300]!r}")
        return
    # what SET kept shows as UTF-8 in the 6.6 layout
    if any(c["words"] == "SHOW" and c.get("available") for c in ctx["commands"]):
        r = w.cmd("SHOW")
        if not r.ok or r.prompt != prompt + " ":
            w.problems.append(f"SHOW after the odd values: {r.raw[:300]!r}")


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def walk_server(server):
    c = server.connect()
    try:
        set_settings(c, CliMaxErrors=0, CliMaxAuthCommands=0)
    finally:
        c.close()
    return server


def route_id(item):
    src, row = item
    return f"{src['prompt']} {row['words']}"


def test_reference_loaded():
    assert LOAD_ERROR is None, LOAD_ERROR
    assert "root" in BY_NAME and "login" in BY_NAME
    # every context is reachable from root through the rows, and reached
    # (by one of them) at the reference's own prompt
    reached = {CTX_OF_PROMPT[pr]["name"] for pr in ROUTES}
    assert reached | {"login"} == set(BY_NAME), sorted(set(BY_NAME) - reached - {"login"})
    at_own = {CTX_OF_PROMPT[pr]["name"] for pr in ROUTES if CTX_OF_PROMPT[pr]["prompt"] == pr}
    assert at_own | {"login"} == set(BY_NAME), sorted(set(BY_NAME) - at_own - {"login"})
    for c in CONTEXTS:
        assert re.fullmatch(r"<[A-Za-z0-9-]*#>|<login>", c["prompt"]), c["prompt"]
        words = [r["words"] for r in c["commands"] if r.get("available")]
        assert words.count("EXIT/QUIT") == 1 and words.count("HELP") == 1, c["name"]
        # 7.1: a context commits or hands its edits up, not both
        assert not ("COMMIT" in words and "DONE" in words), c["name"]
        if c["name"] not in ("root", "login"):
            assert "BACK" in words, c["name"]
        if c["parent"] is not None:
            assert c["parent"] in BY_PROMPT, (c["name"], c["parent"])


@pytest.mark.parametrize("src,row", ENTERING, ids=[route_id(x) for x in ENTERING])
def test_context_walk(walk_server, src, row):
    """Enter the row's context from its source (reached from root), then
    every check of the context."""
    w = Walker(walk_server)
    w.connect()
    try:
        route = list(ROUTES[src["prompt"]]) + [(src["prompt"], row)]
        w.walk(route[:-1])
        line = w.enter_line(src["prompt"], src, row)   # may make an object first
        # the other spellings lead to the same prompt
        alt = variant_line(row, line)
        r = w.cmd(alt)
        if not r.ok or r.prompt != row["enters"] + " ":
            w.problems.append(f"{alt!r} (for {line!r}): {r!r}")
        elif w.cmd("BACK").prompt != src["prompt"] + " ":
            w.problems.append(f"BACK after {alt!r}")
            raise Broken()
        # a pending edit in the parent must survive the child's visit
        before = parent_show(w, src["prompt"])
        if before is not None:
            shown = {m.group(1): m.group(2) for m in map(SHOW_LINE.match, before.decode().split("\r\n")) if m}
            probe = settable_probe(src, shown, ROUTES[src["prompt"]][-1][1] if ROUTES[src["prompt"]] else None)
            if probe and w.cmd(f"SET {probe[0]} {probe[1]}").ok:
                before = parent_show(w, src["prompt"])
        w.walk(route[-1:])
        check_context(w, route, BY_NAME[row["target"]], row["enters"], before)
    except Broken:
        pass
    finally:
        w.close()
    assert not w.problems, "\n".join(w.problems)


@pytest.mark.parametrize("src,row", ENTERING, ids=[route_id(x) for x in ENTERING])
def test_context_odd_values(walk_server, src, row):
    w = Walker(walk_server)
    w.connect()
    try:
        w.walk(list(ROUTES[src["prompt"]]) + [(src["prompt"], row)])
        check_odd_values(w, BY_NAME[row["target"]], row["enters"])
    except Broken:
        pass
    finally:
        w.close()
    assert not w.problems, "\n".join(w.problems)


def test_root_context(walk_server):
    w = Walker(walk_server)
    w.connect()
    try:
        root = BY_NAME["root"]
        check_help(w, root, "<#>")
        check_show(w, root, "<#>")
        check_lists(w, root, "<#>")
        check_show_rows(w, root, "<#>")
        check_errors(w, root, "<#>")
        check_odd_values(w, root, "<#>")
        r = w.cmd("BACK")
        if r.ok or r.text != "Unknown command in this context" or r.prompt != "<#> ":
            w.problems.append(f"BACK at root: {r!r}")
    except Broken:
        pass
    finally:
        w.close()
    assert not w.problems, "\n".join(w.problems)


def test_login_context(walk_server):
    """The login context's table, before authentication."""
    w = Walker(walk_server)
    w.cl = walk_server.cli(login=False)
    try:
        login = BY_NAME["login"]
        check_help(w, login, "<login>")
        check_show(w, login, "<login>")
        check_errors(w, login, "<login>", login=True)
        check_odd_values(w, login, "<login>")
        r = w.cmd("BACK")
        if r.ok or r.prompt != "<login> ":
            w.problems.append(f"BACK before login: {r!r}")
        # still able to log in after all that
        w.cl.login(walk_server.admin_user, walk_server.admin_pass)
    except Broken:
        pass
    finally:
        w.close()
    assert not w.problems, "\n".join(w.problems)


# the server contexts the spec (8, Server context) names: CONFIG <keyword>
SPEC_SERVER_CONFIGS = ("LOG", "CLI", "RPOP", "SMTP-INCOMING", "SMTP-OUTGOING", "PROCESSING", "POP3", "IMAP",
                       "WEBMAIL", "WEBADMIN", "FTP-BACKUP", "DNR", "REPORT", "POP3-Proxy", "IMAP-Proxy",
                       "WEBMAIL-Proxy", "USERDB", "PERMISSIONS", "FILTERS", "MOBILITY", "CLUSTER",
                       "InitialAccountSettings", "AUTODISCOVERY", "CERTS", "CALLOG", "SECURITY", "JOBLOG",
                       "MAILBOXAPI", "SRVLOG")


def test_services_tern_does_not_have(walk_server):
    """CONFIG of a server context the table does not have answers a clear
    -ERR and stays in <server#>; the services say they are not there."""
    server_ctx = BY_NAME["server"]
    have = {c["words"].split()[1].lower() for c in server_ctx["commands"] if c["words"].upper().startswith("CONFIG ")}
    cl = walk_server.cli()
    try:
        cl.ok("CONFIG SERVER", "server")
        for kw in SPEC_SERVER_CONFIGS:
            if kw.lower() in have:
                continue
            r = cl.err(f"CONFIG {kw}", None, "server")
            assert r.text in ("Unknown command", "Unknown command in this context",
                              f"This server has no {kw} service"), r
        for kw in ("IMAP", "WEBADMIN", "WEBMAIL"):
            if kw.lower() not in have:
                assert cl.err(f"config {kw.lower()}", None, "server").text == f"This server has no {kw} service"
        cl.ok("BACK", "")
    finally:
        cl.close()
