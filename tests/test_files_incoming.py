"""peer.files.incoming and digest: the assembler of one file, fed arbitrary sequences."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peer.files.digest import (
    EMPTY_SHA256,
    PrefixProof,
    RunningHash,
    is_sha256_hex,
    resume_decision,
    resume_offset,
)
from peer.files.incoming import TRANSFER_CODES, Incoming, TransferError, Verdict


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def splits(data: bytes, cuts: list[int]) -> list[tuple[int, bytes]]:
    """``data`` cut at ``cuts`` (positions, any order, duplicates dropped) into chunks."""
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [(a, data[a:b]) for a, b in zip(points, points[1:], strict=False) if b > a]


def feed(inc: Incoming, chunks: list[tuple[int, bytes]]) -> None:
    for offset, data in chunks:
        assert inc.chunk(offset, data) == len(data)


# --------------------------------------------------------------------------- in order


def test_a_file_in_three_chunks() -> None:
    inc = Incoming(10)
    assert (inc.received, inc.remaining) == (0, 10)
    assert inc.chunk(0, b"abcd") == 4
    assert inc.chunk(4, memoryview(b"efg")) == 3
    assert (inc.received, inc.remaining) == (7, 3)
    assert inc.chunk(7, bytearray(b"hij")) == 3
    assert inc.finish(sha(b"abcdefghij")) == Verdict(True, None, sha(b"abcdefghij"))
    assert inc.finished


def test_an_empty_file() -> None:
    assert Incoming(0).finish(EMPTY_SHA256).ok
    assert Incoming(0).finish(EMPTY_SHA256.upper()).ok


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=20))
def test_any_split_in_order_is_ok(payload: bytes, cuts: list[int]) -> None:
    inc = Incoming(len(payload))
    feed(inc, splits(payload, cuts))
    assert inc.remaining == 0
    verdict = inc.finish(sha(payload))
    assert verdict == Verdict(True, None, sha(payload))


# --------------------------------------------------------------------------- refused


def test_out_of_order_past_end_and_finished() -> None:
    inc = Incoming(6)
    inc.chunk(0, b"ab")
    with pytest.raises(TransferError) as info:
        inc.chunk(4, b"ef")  # a gap
    assert info.value.code == "out_of_order"
    with pytest.raises(TransferError, match="out_of_order"):
        inc.chunk(2, b"cd")  # the file has failed: nothing more is taken
    assert inc.failed == "out_of_order"
    assert inc.finish(sha(b"abcdef")) == Verdict(False, "out_of_order", sha(b"ab"))

    inc = Incoming(4)
    inc.chunk(0, b"abc")
    with pytest.raises(TransferError, match="out_of_order"):
        inc.chunk(2, b"cd")  # an overlap
    inc = Incoming(4)
    with pytest.raises(TransferError, match="past_end"):
        inc.chunk(0, b"abcde")

    inc = Incoming(2)
    inc.chunk(0, b"ab")
    assert inc.finish(sha(b"ab")).ok
    with pytest.raises(TransferError, match="finished"):
        inc.chunk(2, b"c")
    with pytest.raises(TransferError, match="finished"):
        inc.finish(sha(b"ab"))


def test_short_and_hash_mismatch() -> None:
    inc = Incoming(5)
    inc.chunk(0, b"abc")
    assert inc.finish(sha(b"abc")) == Verdict(False, "short", sha(b"abc"))
    inc = Incoming(3)
    inc.chunk(0, b"abc")
    assert inc.finish(sha(b"abd")) == Verdict(False, "hash_mismatch", sha(b"abc"))
    inc = Incoming(3)
    inc.chunk(0, b"abc")
    assert inc.finish("not a hash").code == "hash_mismatch"
    for code in ("short", "hash_mismatch", "out_of_order", "past_end", "finished"):
        assert code in TRANSFER_CODES


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 200),
    st.lists(st.tuples(st.integers(0, 260), st.binary(max_size=60)), max_size=12),
    st.booleans(),
)
def test_arbitrary_sequences_follow_the_model(
    size: int, chunks: list[tuple[int, bytes]], right_hash: bool
) -> None:
    inc = Incoming(size)
    expected, failed, taken = 0, None, b""
    for offset, data in chunks:
        if failed is None and offset != expected:
            want: str | None = "out_of_order"
        elif failed is None and offset + len(data) > size:
            want = "past_end"
        else:
            want = failed
        if want is None:
            assert inc.chunk(offset, data) == len(data)
            expected += len(data)
            taken += data
        else:
            with pytest.raises(TransferError) as info:
                inc.chunk(offset, data)
            assert info.value.code == want
            failed = want
    verdict = inc.finish(sha(taken) if right_hash else sha(taken + b"!"))
    assert verdict.sha256 == sha(taken)
    assert verdict.ok == (failed is None and expected == size and right_hash)
    if failed is not None:
        assert verdict.code == failed


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=2000),
    st.integers(-300, 300).filter(lambda d: d != 0),
    st.lists(st.integers(0, 2000), max_size=10),
)
def test_a_sender_lying_about_the_size_never_gets_ok(
    payload: bytes, lie: int, cuts: list[int]
) -> None:
    declared = max(0, len(payload) + lie)
    if declared == len(payload):
        return
    inc = Incoming(declared)
    try:
        feed(inc, splits(payload, cuts))
    except TransferError as exc:
        assert exc.code == "past_end" and len(payload) > declared
    verdict = inc.finish(sha(payload))  # the hash of what it really sent
    assert not verdict.ok
    assert verdict.code == ("past_end" if len(payload) > declared else "short")


def test_local_misuse_is_a_value_error() -> None:
    for args in ((-1,), (5, 6), (5, -1), (2**64,)):
        with pytest.raises(ValueError):
            Incoming(*args)
    inc = Incoming(10, 4)
    with pytest.raises(ValueError, match="seed"):
        inc.chunk(4, b"x")  # the prefix has not been hashed
    inc.seed(b"abc")
    with pytest.raises(ValueError):
        inc.seed(b"de")  # more than the start
    with pytest.raises(ValueError):
        inc.finish(EMPTY_SHA256)


# --------------------------------------------------------------------------- resume


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=3000),
    st.integers(0, 3000),
    st.lists(st.integers(0, 3000), max_size=8),
    st.integers(1, 700),
)
def test_resume_from_a_proven_prefix(payload: bytes, cut: int, cuts: list[int], block: int) -> None:
    start = cut % (len(payload) + 1)
    prefix, rest = payload[:start], payload[start:]
    # the receiver hashes its partial file block by block and sends the proof
    hasher = RunningHash()
    for i in range(0, len(prefix), block):
        hasher.update(prefix[i : i + block])
    proof = hasher.proof()
    assert proof == PrefixProof(start, sha(prefix))
    # the sender hashes the same length of its source and decides
    offset = resume_offset(proof, len(payload), sha(payload[: proof.length]))
    assert offset == start
    # the receiver goes on from its hash state, or seeds a fresh assembler from the disk
    resumed = Incoming.resuming(len(payload), hasher, offset)
    seeded = Incoming(len(payload), start)
    for i in range(0, len(prefix), block):
        seeded.seed(prefix[i : i + block])
    for inc in (resumed, seeded):
        assert (inc.received, inc.remaining) == (start, len(rest))
        feed(inc, [(start + a, d) for a, d in splits(rest, cuts)])
        assert inc.finish(sha(payload)).ok
    assert hasher.length == start  # resuming copied the hash state


def test_resuming_from_an_offset_not_proven_is_bad_start() -> None:
    hasher = RunningHash()
    hasher.update(b"abcd")
    assert Incoming.resuming(10, hasher, 0).received == 0  # the sender starts over
    for start in (3, 5, 11):
        with pytest.raises(TransferError) as info:
            Incoming.resuming(10, hasher, start)
        assert info.value.code == "bad_start"
    with pytest.raises(TransferError, match="bad_start"):
        Incoming.resuming(3, hasher, 4)  # longer than the file


@pytest.mark.parametrize(
    ("partial", "source", "offset"),
    [
        (b"", b"hello", 0),
        (b"hel", b"hello", 3),
        (b"hello", b"hello", 5),  # all there: only the end (and its hash) is sent
        (b"hex", b"hello", 0),  # the source changed
        (b"hello!", b"hello", 0),  # the source is shorter now
    ],
)
def test_resume_decision(partial: bytes, source: bytes, offset: int) -> None:
    source_prefix = sha(source[: len(partial)]) if len(partial) <= len(source) else None
    assert resume_decision(len(partial), sha(partial), len(source), source_prefix) == offset


def test_a_malformed_proof_starts_over() -> None:
    assert resume_decision(3, "XYZ", 10, sha(b"abc")) == 0
    assert resume_decision(-1, sha(b""), 10, sha(b"")) == 0
    assert resume_offset(None, 10, None) == 0
    with pytest.raises(ValueError):
        PrefixProof(3, "A" * 64)  # the wire carries lowercase
    assert is_sha256_hex(sha(b"x")) and not is_sha256_hex(sha(b"x").upper())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=64))
def test_only_a_true_prefix_is_resumed(partial: bytes, source: bytes) -> None:
    source_prefix = sha(source[: len(partial)]) if len(partial) <= len(source) else None
    offset = resume_decision(len(partial), sha(partial), len(source), source_prefix)
    assert offset == (len(partial) if source.startswith(partial) else 0)
