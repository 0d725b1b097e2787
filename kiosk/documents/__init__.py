"""What the kiosk prints: receipt layouts, query certificates, certificate overlays, scans."""
