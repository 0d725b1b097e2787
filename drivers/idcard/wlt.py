"""The card photo's WLT bytes → BMP, through the reader vendor's library, in a child process.

Only the vendor's library can decode WLT. It is native code of unknown quality, so it runs in
a worker process: if it crashes or hangs, the worker dies or is killed, this photo is reported
as not decoded, the next photo gets a fresh worker, and the kiosk carries on.

The library's ABI is the common vendor one: ``int <symbol>(const char *wlt, char *bmp, int
flag)``, returning 1 on success with a 102×126 24-bit BMP (38862 bytes) written to ``bmp``.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import threading
from dataclasses import dataclass

from drivers.errors import ConfigurationError, DeviceError

BMP_SIZE = 38862
WLT_SIZE = 1024


class PhotoDecodeError(DeviceError):
    code = "photo_decode"


@dataclass(frozen=True)
class WltDecoderSettings:
    library: str
    symbol: str = "unpack"
    timeout_s: float = 3.0


class WltDecoder:
    def __init__(self, settings: WltDecoderSettings) -> None:
        self.settings = settings
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def decode(self, wlt: bytes) -> bytes:
        if len(wlt) != WLT_SIZE:
            raise PhotoDecodeError(f"WLT photo is {len(wlt)} bytes, not {WLT_SIZE}")
        with self._lock:
            process = self._worker()
            assert process.stdin is not None and process.stdout is not None
            timer = threading.Timer(self.settings.timeout_s, process.kill)
            timer.start()
            try:
                process.stdin.write(wlt)
                process.stdin.flush()
                header = process.stdout.read(8)
                if len(header) < 8:
                    raise PhotoDecodeError("the vendor decoder died") from None
                status, length = struct.unpack(">ii", header)
                body = process.stdout.read(length)
            except (BrokenPipeError, OSError) as err:
                raise PhotoDecodeError(f"the vendor decoder died: {err}") from err
            finally:
                timer.cancel()
                if process.poll() is not None:
                    self._process = None
            if status != 1 or len(body) != length:
                raise PhotoDecodeError(f"the vendor decoder refused the photo ({status})")
            if not body.startswith(b"BM"):
                raise PhotoDecodeError("the vendor decoder did not return a BMP")
            return body

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()

    def _worker(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            try:
                self._process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "drivers.idcard.wlt_worker",
                        self.settings.library,
                        self.settings.symbol,
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError as err:
                raise ConfigurationError(f"cannot start the photo decoder: {err}") from err
        return self._process
