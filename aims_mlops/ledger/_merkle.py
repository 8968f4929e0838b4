"""The RFC 6962 (Certificate Transparency) Merkle tree hash, its compact form and its
consistency proofs. Pure: hashlib only.

- leaf hash ``SHA-256(0x00 || data)``, interior node ``SHA-256(0x01 || left || right)``, the
  empty tree ``SHA-256("")``; a tree of ``n`` leaves splits at the largest power of two below
  ``n`` (RFC 6962 §2.1).
- :class:`Frontier` is the tree's compact form: the roots of the perfect subtrees that make up
  ``n`` leaves, left to right (at most ``log2(n) + 1`` hashes). Appending ``k`` leaves costs
  ``O(k)`` hashes, so a checkpoint never re-hashes what an earlier one covered.
- :func:`consistency_proof` / :func:`verify_consistency`: RFC 6962 §2.1.2 proofs (checked as in
  RFC 9162 §2.1.4.2) that a tree of ``m`` leaves is a prefix of one of ``n`` leaves.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (already leaf-hashed), recursively as RFC 6962 says."""
    n = len(leaves)
    if n == 0:
        return bytes.fromhex(EMPTY_ROOT)
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(tree_root(leaves[:k]), tree_root(leaves[k:]))


@dataclass(frozen=True)
class Frontier:
    """A tree of ``size`` leaves in compact form: ``(height, hash)`` of its perfect subtrees,
    largest (leftmost) first."""

    size: int = 0
    nodes: tuple[tuple[int, bytes], ...] = ()

    def extended(self, leaves: Iterable[bytes]) -> Frontier:
        """The frontier after appending ``leaves`` (already leaf-hashed)."""
        nodes = list(self.nodes)
        size = self.size
        for leaf in leaves:
            nodes.append((0, leaf))
            size += 1
            while len(nodes) > 1 and nodes[-1][0] == nodes[-2][0]:
                (height, right), (_, left) = nodes.pop(), nodes.pop()
                nodes.append((height + 1, node_hash(left, right)))
        return Frontier(size=size, nodes=tuple(nodes))

    def root(self) -> bytes:
        """The tree's root (equal to :func:`tree_root` of the same leaves)."""
        if not self.nodes:
            return bytes.fromhex(EMPTY_ROOT)
        acc = self.nodes[-1][1]
        for _, left in reversed(self.nodes[:-1]):
            acc = node_hash(left, acc)
        return acc

    def to_json(self) -> list[list[int | str]]:
        return [[height, digest.hex()] for height, digest in self.nodes]

    @classmethod
    def from_json(cls, size: int, data: Iterable[Sequence[int | str]]) -> Frontier:
        """Rebuild a frontier; :class:`ValueError` when the heights do not add up to ``size``."""
        nodes = tuple((int(h), bytes.fromhex(str(d))) for h, d in data)
        if sum(1 << h for h, _ in nodes) != size or any(
            a[0] <= b[0] for a, b in itertools.pairwise(nodes)
        ):
            raise ValueError("frontier does not describe a tree of that size")
        return cls(size=size, nodes=nodes)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [tree_root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), tree_root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), tree_root(leaves[:k])]


def consistency_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 PROOF(m, D[n]): the hashes proving the first ``m`` leaves are a prefix."""
    if not 0 < m <= len(leaves):
        raise ValueError("0 < m <= n is required")
    return _subproof(m, leaves, True)


def verify_consistency(
    m: int, n: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows the tree of ``m`` leaves (``old_root``) is a prefix of the tree
    of ``n`` leaves (``new_root``) — RFC 9162 §2.1.4.2."""
    if not 0 < m <= n:
        return False
    if m == n:
        return not proof and old_root == new_root
    path = list(proof)
    if m & (m - 1) == 0:  # m a power of two: the old root is the first node of the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def prefix_roots(leaves: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """The roots of the trees of the first ``n`` leaves, for each ``n`` in ``sizes`` (one pass,
    O(len(leaves)) hashes): how a list is checked against every checkpoint that covered it."""
    wanted = set(sizes)
    roots: dict[int, bytes] = {}
    if 0 in wanted:
        roots[0] = bytes.fromhex(EMPTY_ROOT)
    heights: list[int] = []
    hashes: list[bytes] = []
    for size, leaf in enumerate(leaves, start=1):
        heights.append(0)
        hashes.append(leaf)
        while len(heights) > 1 and heights[-1] == heights[-2]:
            right = hashes.pop()
            left = hashes.pop()
            heights.pop()
            heights[-1] += 1
            hashes.append(node_hash(left, right))
        if size in wanted:
            acc = hashes[-1]
            for left in reversed(hashes[:-1]):
                acc = node_hash(left, acc)
            roots[size] = acc
    return roots
