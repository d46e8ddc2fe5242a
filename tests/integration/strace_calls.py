"""The recvfrom calls in an `strace -f` log, for the tests that count how often enoki reads a head
(test_head_reads, test_ws_auth)."""

import re

CALL = re.compile(r'^(\d+)\s+recvfrom\((\d+), "(.*)"(?:\.\.\.)?, (\d+), (MSG_PEEK|0)[^=]*= (-?\d+)')
UNFINISHED = re.compile(r'^(\d+)\s+(.*) <unfinished \.\.\.>$')
RESUMED = re.compile(r'^(\d+)\s+<\.\.\. \w+ resumed>(.*)$')


def recvfrom_calls(path):
    """[(fd, data_start, peek, result)] for every recvfrom of the log, in the order they ended.

    When two threads' calls overlap, strace writes the first as an `<unfinished ...>` line and its
    end later as a `<... recvfrom resumed>` line; the two are joined here, or that call would be
    missed (a head's read went uncounted when the broker thread read at the same moment)."""
    calls, pending = [], {}
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = UNFINISHED.match(line)
        if m:
            pending[m.group(1)] = m.group(2)
            continue
        m = RESUMED.match(line)
        if m and m.group(1) in pending:
            line = "{} {}{}".format(m.group(1), pending.pop(m.group(1)), m.group(2))
        m = CALL.match(line)
        if m:
            calls.append((int(m.group(2)), m.group(3), m.group(5) == "MSG_PEEK", int(m.group(6))))
    return calls
