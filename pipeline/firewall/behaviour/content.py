"""Encoded payloads and bundled binaries in an artifact's files.

- Binaries: ELF (`\\x7fELF`), PE (`MZ` with a `PE\\0\\0` header where its offset says), Mach-O
  (thin 32/64-bit either byte order, and universal `\\xca\\xfe\\xba\\xbe` when its architecture count
  is small, which tells it from a Java class file). Judged by content, never by file name.
- Encoded payloads in text files: one unbroken base64 or hex token of at least `MIN_PAYLOAD`
  characters whose Shannon entropy is high (`MIN_BASE64_ENTROPY` bits per character for base64,
  `MIN_HEX_ENTROPY` for hex: random-looking, not `AAAA…` padding or a table), or a numeric byte
  array (`[0,97,115,109,…]`) of at least `MIN_BYTE_ARRAY` numbers, the other common way to ship
  an embedded blob (WebAssembly, shellcode) in JavaScript or Python source.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_PAYLOAD = 256
MIN_BASE64_ENTROPY = 5.0  # random base64 is ~6 bits per character; English text ~4
MIN_HEX_ENTROPY = 3.7  # random hex is ~4
MIN_BYTE_ARRAY = 256
TEXT_SUFFIXES = (".py", ".js", ".cjs", ".mjs", ".ts", ".json", ".sh", ".pyw", ".cfg", ".toml", ".bat", ".ps1")
_BASE64 = re.compile(rb"[A-Za-z0-9+/]{%d,}={0,2}" % MIN_PAYLOAD)
_HEX = re.compile(rb"(?:(?:\\x)?[0-9a-fA-F]{2}){%d,}" % (MIN_PAYLOAD // 2))
_BYTE_ARRAY = re.compile(rb"\[\s*(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\s*,\s*){%d,}" % (MIN_BYTE_ARRAY - 1))
_MACHO = (b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe")


def binary_kind(data: bytes) -> str | None:
    """"ELF", "PE" or "Mach-O" when the bytes are an executable or library, else None."""
    if data.startswith(b"\x7fELF"):
        return "ELF"
    if data.startswith(b"MZ") and len(data) >= 0x40:
        offset = int.from_bytes(data[0x3C:0x40], "little")
        if data[offset:offset + 4] == b"PE\0\0":
            return "PE"
    if data[:4] in _MACHO:
        return "Mach-O"
    if data.startswith(b"\xca\xfe\xba\xbe") and 0 < int.from_bytes(data[4:8], "big") < 20:
        return "Mach-O"  # universal; a Java class has its version (>= 45) here
    return None


def entropy(data: bytes) -> float:
    counts = Counter(data)
    return -sum(n / len(data) * math.log2(n / len(data)) for n in counts.values()) if data else 0.0


def encoded_payload(data: bytes) -> str | None:
    """What kind of long encoded blob the text holds ("base64", "hex", "byte array") and its length, or None."""
    for match in _BASE64.finditer(data):
        token = match.group()
        if not _HEX.fullmatch(token) and entropy(token) >= MIN_BASE64_ENTROPY:
            return f"a base64 blob of {len(token)} characters"
    for match in _HEX.finditer(data):
        if entropy(match.group().replace(b"\\x", b"")) >= MIN_HEX_ENTROPY:
            return f"a hex blob of {len(match.group())} characters"
    array = _BYTE_ARRAY.search(data)
    if array:
        return f"a numeric byte array of {array.group().count(b',') + 1}+ numbers"
    return None
