"""A private cupsd with a cups-pdf queue: the certificate printer of the ``sim`` profile.

The real scheduler and the real ``cups-pdf`` backend run in a folder of their own, listening on
a Unix socket there. PDFs land in ``<folder>/out``. ``stop()`` ends the scheduler, which the
driver sees as the printer going away.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

CUPSD = Path("/usr/sbin/cupsd")
LPADMIN = "lpadmin"
CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
CUPS_PDF_CONF_DIR = Path("/etc/cups")


class CupsEmulatorError(RuntimeError):
    pass


class CupsEmulator:
    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        digest = hashlib.sha1(str(self.folder).encode()).hexdigest()[:8]
        self.queue = f"dengji_sim_{digest}"
        self.socket = self.folder / "run" / "cups.sock"
        self.out = self.folder / "out"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, object]:
        if not CUPSD.exists():
            raise CupsEmulatorError("cupsd is not installed (Debian package cups)")
        for sub in ("conf", "spool", "log", "cache", "run", "out"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.out, 0o777)
        conf = self.folder / "conf"
        (conf / "cupsd.conf").write_text(
            f"Listen {self.socket}\nLogLevel warn\nWebInterface No\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
        )
        (conf / "cups-files.conf").write_text(
            f"ServerRoot {conf}\nRequestRoot {self.folder / 'spool'}\n"
            f"CacheDir {self.folder / 'cache'}\nStateDir {self.folder / 'run'}\n"
            f"TempDir {self.folder / 'spool'}\nAccessLog {self.folder / 'log/access_log'}\n"
            f"ErrorLog {self.folder / 'log/error_log'}\nPageLog {self.folder / 'log/page_log'}\n"
            "ServerBin /usr/lib/cups\nDataDir /usr/share/cups\n"
        )
        self.socket.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [str(CUPSD), "-f", "-c", str(conf / "cupsd.conf"), "-s", str(conf / "cups-files.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise CupsEmulatorError(f"cupsd did not start; see {self.folder / 'log'}")
            time.sleep(0.02)
        if (
            not (conf / "printers.conf").exists()
            or self.queue not in (conf / "printers.conf").read_text()
        ):
            self._add_queue()
        return {"queue": self.queue, "server": str(self.socket)}

    def _add_queue(self) -> None:
        try:
            (CUPS_PDF_CONF_DIR / f"cups-pdf-{self.queue}.conf").write_text(
                f"Out {self.out}\nLabel 0\n"
            )
        except OSError:
            pass  # not root: cups-pdf writes to its default folder instead
        command = [
            LPADMIN,
            "-h",
            str(self.socket),
            "-p",
            self.queue,
            "-E",
            "-v",
            f"cups-pdf:/{self.queue}",
        ]
        if CUPS_PDF_PPD.exists():
            command += ["-P", str(CUPS_PDF_PPD)]
        if shutil.which(LPADMIN) is None:
            raise CupsEmulatorError("lpadmin is not installed (Debian package cups-client)")
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CupsEmulatorError(f"lpadmin failed: {result.stderr.strip()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.socket.unlink(missing_ok=True)

    def remove(self) -> None:
        """Forget the queue's cups-pdf configuration (tests call it when done)."""
        (CUPS_PDF_CONF_DIR / f"cups-pdf-{self.queue}.conf").unlink(missing_ok=True)
