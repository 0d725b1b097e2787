"""ICAO 9303 eMRTD: MRZ check digits, BAC key derivation and secure messaging, file parsing.

Shared by the PC/SC driver (the terminal side) and the chip emulator (the card side), and tested
against the worked example of ICAO 9303 Part 11. 3DES and single DES come from
``cryptography`` (two-key 3DES is given as a 24-byte key, K1 K2 K1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from drivers.errors import ProtocolError

AID = bytes.fromhex("A0000002471001")
EF_COM, EF_DG1, EF_DG2, EF_SOD = b"\x01\x1e", b"\x01\x01", b"\x01\x02", b"\x01\x1d"
_WEIGHTS = (7, 3, 1)


class SecureMessagingError(ProtocolError):
    code = "secure_messaging"


def check_digit(value: str) -> str:
    total = 0
    for i, char in enumerate(value):
        if char.isdigit():
            v = int(char)
        elif "A" <= char <= "Z":
            v = ord(char) - 55
        else:  # "<"
            v = 0
        total += v * _WEIGHTS[i % 3]
    return str(total % 10)


def mrz_information(document_number: str, birth_yymmdd: str, expiry_yymmdd: str) -> str:
    number = document_number.upper().ljust(9, "<")
    return (
        number
        + check_digit(number)
        + birth_yymmdd
        + check_digit(birth_yymmdd)
        + expiry_yymmdd
        + check_digit(expiry_yymmdd)
    )


def _parity(key: bytes) -> bytes:
    out = bytearray()
    for byte in key:
        high = byte & 0xFE
        out.append(high | (bin(high).count("1") % 2 == 0))
    return bytes(out)


def derive_key(seed: bytes, counter: int) -> bytes:
    return _parity(hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()[:16])


def seed_from_mrz(mrz_info: str) -> bytes:
    return hashlib.sha1(mrz_info.encode()).digest()[:16]


def _des3(key: bytes) -> TripleDES:
    return TripleDES(key + key[:8] if len(key) == 16 else key)


def encrypt(key: bytes, data: bytes) -> bytes:
    encryptor = Cipher(_des3(key), modes.CBC(bytes(8))).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def decrypt(key: bytes, data: bytes) -> bytes:
    decryptor = Cipher(_des3(key), modes.CBC(bytes(8))).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def pad(data: bytes) -> bytes:
    """ISO/IEC 9797-1 padding method 2."""
    data += b"\x80"
    return data + bytes(-len(data) % 8)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise SecureMessagingError("bad padding in secure messaging")
    return stripped[:-1]


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (the data already padded)."""
    k1, k2 = key[:8], key[8:16]
    single = Cipher(TripleDES(k1 * 3), modes.CBC(bytes(8))).encryptor()
    chained = single.update(data) + single.finalize()
    last = chained[-8:]
    last = Cipher(TripleDES(k2 * 3), modes.ECB()).decryptor().update(last)
    return Cipher(TripleDES(k1 * 3), modes.ECB()).encryptor().update(last)


def increment(ssc: bytes) -> bytes:
    return ((int.from_bytes(ssc, "big") + 1) % (1 << 64)).to_bytes(8, "big")


# -- BER-TLV ----------------------------------------------------------------------------------


def tlv_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    size = (length.bit_length() + 7) // 8
    return bytes([0x80 | size]) + length.to_bytes(size, "big")


def tlv(tag: bytes, value: bytes) -> bytes:
    return tag + tlv_length(len(value)) + value


def read_tlv(data: bytes, offset: int = 0) -> tuple[bytes, bytes, int]:
    """(tag, value, next offset) of the TLV at ``offset``."""
    try:
        start = offset
        offset += 1
        if data[start] & 0x1F == 0x1F:
            while data[offset] & 0x80:
                offset += 1
            offset += 1
        tag = data[start:offset]
        first = data[offset]
        offset += 1
        if first & 0x80:
            size = first & 0x7F
            length = int.from_bytes(data[offset : offset + size], "big")
            offset += size
        else:
            length = first
        value = data[offset : offset + length]
        if len(value) != length:
            raise SecureMessagingError("TLV runs past the end of the data")
        return tag, value, offset + length
    except IndexError:
        raise SecureMessagingError("truncated TLV") from None


def tlv_items(data: bytes) -> dict[bytes, bytes]:
    items, offset = {}, 0
    while offset < len(data):
        tag, value, offset = read_tlv(data, offset)
        items[tag] = value
    return items


def total_length(header: bytes) -> int:
    """A file's whole length (tag, length and value) from its first few bytes."""
    header_size, value_length = _header_size(header)
    return header_size + value_length


def _header_size(header: bytes) -> tuple[int, int]:
    """(size of tag and length fields, length of the value)."""
    offset = 1
    if header[0] & 0x1F == 0x1F:
        while header[offset] & 0x80:
            offset += 1
        offset += 1
    first = header[offset]
    offset += 1
    if first & 0x80:
        size = first & 0x7F
        return offset + size, int.from_bytes(header[offset : offset + size], "big")
    return offset, first


# -- secure messaging -------------------------------------------------------------------------


@dataclass
class SessionKeys:
    enc: bytes
    mac: bytes
    ssc: bytes


def session_keys(k_ifd: bytes, k_icc: bytes, rnd_icc: bytes, rnd_ifd: bytes) -> SessionKeys:
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
    return SessionKeys(derive_key(seed, 1), derive_key(seed, 2), rnd_icc[-4:] + rnd_ifd[-4:])


def protect(
    keys: SessionKeys, cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None
) -> bytes:
    """Wrap a command APDU in secure messaging (terminal side)."""
    keys.ssc = increment(keys.ssc)
    header = bytes([cla | 0x0C, ins, p1, p2])
    body = b""
    if data:
        body += tlv(b"\x87", b"\x01" + encrypt(keys.enc, pad(data)))
    if le is not None:
        body += tlv(b"\x97", bytes([le]))
    mac = retail_mac(keys.mac, pad(keys.ssc + pad(header) + body))
    body += tlv(b"\x8e", mac)
    return header + bytes([len(body)]) + body + b"\x00"


def unprotect(keys: SessionKeys, response: bytes) -> tuple[bytes, bytes]:
    """Check and open a secure-messaging response (terminal side): (data, status word)."""
    keys.ssc = increment(keys.ssc)
    if len(response) < 2:
        raise SecureMessagingError("response shorter than a status word")
    body, sw = response[:-2], response[-2:]
    if sw != b"\x90\x00" and not body:
        return b"", sw
    items = tlv_items(body)
    if b"\x8e" not in items or b"\x99" not in items:
        raise SecureMessagingError("response lacks its MAC or status")
    covered = b"".join(tlv(t, v) for t, v in items.items() if t in (b"\x87", b"\x99"))
    if retail_mac(keys.mac, pad(keys.ssc + covered)) != items[b"\x8e"]:
        raise SecureMessagingError("response MAC does not verify")
    data = b""
    if b"\x87" in items:
        data = unpad(decrypt(keys.enc, items[b"\x87"][1:]))
    return data, items[b"\x99"]
