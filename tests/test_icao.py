"""ICAO 9303 Part 11 worked example: every intermediate value, terminal and card side."""

from __future__ import annotations

import pytest

from drivers.idcard.icao import (
    SecureMessagingError,
    SessionKeys,
    check_digit,
    derive_key,
    encrypt,
    mrz_information,
    pad,
    protect,
    retail_mac,
    seed_from_mrz,
    session_keys,
    unprotect,
)

H = bytes.fromhex
RND_ICC, RND_IFD = H("4608F91988702212"), H("781723860C06C226")
K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
K_ICC = H("0B4F80323EB3191CB04970CB4052790B")


def test_mrz_information_and_check_digits() -> None:
    assert check_digit("L898902C<") == "3"
    assert check_digit("690806") == "1" and check_digit("940623") == "6"
    assert mrz_information("L898902C", "690806", "940623") == "L898902C<369080619406236"


def test_keys_from_the_mrz() -> None:
    seed = seed_from_mrz("L898902C<369080619406236")
    assert seed == H("239AB9CB282DAF66231DC5A4DF6BFBAE")
    assert derive_key(seed, 1) == H("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert derive_key(seed, 2) == H("7962D9ECE03D1ACD4C76089DCE131543")


def test_mutual_authentication_cryptogram() -> None:
    k_enc, k_mac = H("AB94FDECF2674FDFB9B391F85D7F76F2"), H("7962D9ECE03D1ACD4C76089DCE131543")
    e_ifd = encrypt(k_enc, RND_IFD + RND_ICC + K_IFD)
    assert e_ifd == H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
    assert retail_mac(k_mac, pad(e_ifd)) == H("5F1448EEA8AD90A7")


def test_session_keys_and_counter() -> None:
    keys = session_keys(K_IFD, K_ICC, RND_ICC, RND_IFD)
    assert keys.enc == H("979EC13B1CBFE9DCD01AB0FED307EAE5")
    assert keys.mac == H("F1CB1F1FB5ADF208806B89DC579DC1F8")
    assert keys.ssc == H("887022120C06C226")


def example_keys() -> SessionKeys:
    return session_keys(K_IFD, K_ICC, RND_ICC, RND_IFD)


def test_protected_select_and_read() -> None:
    keys = example_keys()
    assert protect(keys, 0x00, 0xA4, 0x02, 0x0C, H("011E"), None) == H(
        "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
    )
    data, sw = unprotect(keys, H("990290008E08FA855A5D4C50A8ED9000"))
    assert (data, sw) == (b"", H("9000"))
    assert protect(keys, 0x00, 0xB0, 0x00, 0x00, b"", 4) == H(
        "0CB000000D9701048E08ED6705417E96BA5500"
    )
    data, sw = unprotect(keys, H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"))
    assert data == H("60145F01") and sw == H("9000")


def test_a_tampered_response_is_refused() -> None:
    keys = example_keys()
    protect(keys, 0x00, 0xA4, 0x02, 0x0C, H("011E"), None)
    with pytest.raises(SecureMessagingError, match="MAC"):
        unprotect(keys, H("990290018E08FA855A5D4C50A8ED9000"))  # status byte changed
