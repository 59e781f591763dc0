"""The allocator memgoosed runs on (daemon/allocator.h): the one the build chose is the one the
running process has mapped and names in its log. ctest passes the build's choice as
MG_EXPECT_ALLOCATOR (tcmalloc or system; unset when pytest is run by hand: then only the
log and the mapping are checked against each other)."""

import os

from mgwire import ok


def _mapped_tcmalloc(pid):
    with open(f"/proc/{pid}/maps") as f:
        return any("libtcmalloc" in line for line in f)


def test_allocator_is_the_one_built_and_logged(daemon, dealer):
    # Some work first, so the allocator has served the actors, the front door and the reply.
    ok(dealer.call("insertOne", model="Alloc", doc={"x": 1}))
    assert ok(dealer.call("count", model="Alloc", filter={}))["count"] == 1
    log = daemon.log()
    lines = [l for l in log.splitlines() if "memory allocator: " in l]
    assert len(lines) == 1, log
    mapped = _mapped_tcmalloc(daemon.proc.pid)
    if "tcmalloc (gperftools " in lines[0]:
        assert mapped, "the log names tcmalloc but the process has no libtcmalloc mapped"
    else:
        assert "glibc malloc" in lines[0], lines[0]
        assert not mapped, "the log names glibc malloc but libtcmalloc is mapped"
    expect = os.environ.get("MG_EXPECT_ALLOCATOR")
    if expect:
        assert expect in ("tcmalloc", "system")
        assert mapped == (expect == "tcmalloc"), f"built with {expect}: {lines[0]}"
