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
import tempfile
import time
from pathlib import Path

CUPSD = Path("/usr/sbin/cupsd")
SYSTEM_SERVER_BIN = Path("/usr/lib/cups")
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
        # Filters run as the unprivileged "lp" user and must reach the spool and the filter
        # programs; the runtime folder may sit under private folders (mkdtemp, pytest), so
        # these two live in a folder of their own that anyone may traverse.
        self.public = Path(tempfile.gettempdir()) / f"dengji-cups-{digest}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, object]:
        if not CUPSD.exists():
            raise CupsEmulatorError("cupsd is not installed (Debian package cups)")
        for sub in ("conf", "log", "cache", "run", "out"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        spool = self.public / "spool"
        spool.mkdir(parents=True, exist_ok=True)
        for folder in (self.public, spool):
            folder.chmod(0o755)
        os.chmod(self.out, 0o777)
        conf = self.folder / "conf"
        server_bin = self._server_bin()
        # A private scheduler on a socket in the kiosk's own folder: whoever runs the kiosk
        # (root in the tests, the unprivileged kiosk user on a training kiosk) administers it
        # (CUPS's default policy lets only @SYSTEM add a queue: "lpadmin: Forbidden").
        (conf / "cupsd.conf").write_text(
            f"Listen {self.socket}\nLogLevel warn\nWebInterface No\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n    Allow all\n"
            "  </Limit>\n</Policy>\n"
        )
        (conf / "cups-files.conf").write_text(
            f"ServerRoot {conf}\nRequestRoot {spool}\n"
            f"CacheDir {self.folder / 'cache'}\nStateDir {self.folder / 'run'}\n"
            f"TempDir {spool}\nAccessLog {self.folder / 'log/access_log'}\n"
            f"ErrorLog {self.folder / 'log/error_log'}\nPageLog {self.folder / 'log/page_log'}\n"
            f"ServerBin {server_bin}\nDataDir /usr/share/cups\n"
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
            try:
                self._add_queue()
            except CupsEmulatorError:
                self.stop()  # no scheduler is left running behind a queue that failed
                raise
        return {"queue": self.queue, "server": str(self.socket)}

    def set_print_delay(self, seconds: float) -> None:
        """Make each job take this long in the backend, like a slow printer (for jams)."""
        (self.folder / "delay").write_text(f"{seconds:g}\n")

    def set_fault(self, reason: str | None) -> None:
        """The next jobs fail in the backend with this printer-state reason (e.g.
        ``media-jam-error``, ``media-empty-error``), as a real printer's backend reports it."""
        (self.folder / "fault").write_text(reason or "")

    def clear_fault(self) -> None:
        """Staff cleared the jam: no more fault, and the queue runs again."""
        self.set_fault(None)
        subprocess.run(
            ["cupsenable", "-h", str(self.socket), self.queue], check=False, capture_output=True
        )
        subprocess.run(
            [
                "lpadmin",
                "-h",
                str(self.socket),
                "-p",
                self.queue,
                "-o",
                "printer-state-reasons=none",
            ],
            check=False,
            capture_output=True,
        )

    def _server_bin(self) -> Path:
        """/usr/lib/cups, with cups-pdf behind a wrapper that can be slowed down."""
        server_bin = self.public / "bin"
        backend = server_bin / "backend"
        backend.mkdir(parents=True, exist_ok=True)
        for entry in SYSTEM_SERVER_BIN.iterdir():
            if entry.name != "backend" and not (server_bin / entry.name).exists():
                (server_bin / entry.name).symlink_to(entry)
        for entry in (SYSTEM_SERVER_BIN / "backend").iterdir():
            if entry.name != "cups-pdf" and not (backend / entry.name).exists():
                (backend / entry.name).symlink_to(entry)
        wrapper = backend / "cups-pdf"
        fault, delay = self.folder / "fault", self.folder / "delay"
        wrapper.write_text(
            "#!/bin/sh\n"
            "if [ $# -gt 0 ]; then\n"
            f'  sleep "$(cat {delay} 2>/dev/null || echo 0)"\n'
            f'  fault="$(cat {fault} 2>/dev/null)"\n'
            '  if [ -n "$fault" ]; then\n'
            '    echo "STATE: +$fault" >&2\n'  # how a real backend reports the printer's state
            '    echo "ERROR: printer reports $fault" >&2\n'
            "    sleep 2\n"
            "    exit 4\n"  # CUPS_BACKEND_STOP: the queue stops, the job waits
            "  fi\n"
            "fi\n"
            f'exec {SYSTEM_SERVER_BIN / "backend" / "cups-pdf"} "$@"\n'
        )
        wrapper.chmod(0o700)  # like cups-pdf itself: run as root by the scheduler
        server_bin.chmod(0o755)
        backend.chmod(0o755)
        return server_bin

    def _add_queue(self) -> None:
        _forget_stale_queues()
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
        command += ["-o", "PageSize=A4"]  # certificates and query results are A4
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
        shutil.rmtree(self.public, ignore_errors=True)


def _forget_stale_queues() -> None:
    """cups-pdf settings of emulators that were killed (their output folder is gone)."""
    for conf in CUPS_PDF_CONF_DIR.glob("cups-pdf-dengji_sim_*.conf"):
        try:
            out = next(
                (
                    line.split(None, 1)[1].strip()
                    for line in conf.read_text().splitlines()
                    if line.startswith("Out ")
                ),
                "",
            )
            if out and not Path(out).exists():
                conf.unlink()
        except (OSError, IndexError):
            pass
