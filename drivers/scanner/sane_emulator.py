"""SANE's own ``test`` and ``pnm`` backends behind a private configuration folder.

They are real SANE backends run by the real library, so the driver's code is the code under
test. A private ``dll.conf`` lists only them, which also makes device discovery instant.
"""

from __future__ import annotations

from pathlib import Path

SYSTEM_TEST_CONF = Path("/etc/sane.d/test.conf")


class SaneEmulator:
    def __init__(self, folder: Path, device: str = "test:0") -> None:
        self.folder = folder
        self.device = device

    def start(self) -> dict[str, object]:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "dll.conf").write_text("test\npnm\n")
        if SYSTEM_TEST_CONF.exists():
            # the test backend's default picture is solid black, which the kiosk rightly
            # refuses as a document: its grid stands in for a page with something on it
            conf = SYSTEM_TEST_CONF.read_text().replace(
                'test-picture "Solid black"', 'test-picture "Grid"'
            )
            (self.folder / "test.conf").write_text(conf)
        # The test backend has its own source names; standing in for another model, it scans
        # from its default source rather than refusing that model's name for its ADF.
        return {"device": self.device, "config_dir": str(self.folder), "source": ""}

    def stop(self) -> None:
        """Nothing runs: the backends live inside the driver's process."""
