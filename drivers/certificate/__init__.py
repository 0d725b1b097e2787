"""Certificate / A4 document printers through CUPS."""
